// Built into the fuzzers' Modbus subset only (scripts/fuzz.sh compiles with swiftc, not
// SwiftPM, so there is no generated resource bundle): the targets load the shipped
// profiles from Sources/Modbus/Profiles by path and never ask for the bundle.
import Foundation

extension Bundle {
    static var module: Bundle { .main }
}
