import ArgumentParser
import Foundation
import PhasorCore
import Pulse

/// `phasor pulses watch`: the installer's check of an S0 input. Counts pulses on a
/// GPIO line (or from a FIFO), keeps the counter in the state folder exactly as
/// the gateway does, and prints one line per counted pulse once it is saved.
struct PulsesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulses", abstract: "S0 pulse input commands.", subcommands: [Watch.self])

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts pulses and prints each one after saving the counter (Ctrl-C stops).")

        @Option(help: "Input id (the counter file is <state-folder>/<id>.pulses).") var id: String = "s0"
        @Option(help: "GPIO character device.") var gpio: String = "/dev/gpiochip0"
        @Option(help: "GPIO line offset.") var line: Int = 0
        @Option(help: "Read pulses from this file or FIFO instead (a line per pulse: empty = now, or a Unix time).")
        var fifo: String?
        @Option(help: "Pulses per unit (the meter's imp/kWh, imp/m³ or imp/L).") var pulsesPerUnit: Double = 1000
        @Option(help: "kwh, m3 or l.") var unit: String = "kwh"
        @Option(help: "Edges closer than this (ms) are bounce.") var debounceMs: Double = 30
        @Option(help: "Where the counter is kept.") var stateFolder: String = PulseSection.defaultStateFolder

        func run() async throws {
            guard let countedUnit = PulseInputConfig.CountedUnit(rawValue: unit) else {
                throw ValidationError("--unit \(unit): use kwh, m3 or l")
            }
            let config = PulseInputConfig(id: id, gpio: gpio, line: line, pulsesPerUnit: pulsesPerUnit, unit: countedUnit,
                                          debounceMs: debounceMs)
            do { try PulseSection(inputs: [config]).validate(file: "command line") } catch { throw ValidationError("\(error)") }
            let counter = try PulseCounter(config: config, store: PulseCounterStore(folder: stateFolder, id: id))
            let source: any PulseSource = fifo.map { LinePulseSource(path: $0) } ?? GPIOPulseSource(config: config)
            let total = config.totalQuantity
            Self.say("\(id): \(await counter.count) pulses saved")
            for try await edge in source.edges() where try await counter.handle(edge) {
                let reading = await counter.reading(at: edge.time)
                Self.say("pulse \(await counter.count) \(total) \(reading.number(total).map(JSONWriter.format) ?? "-")")
            }
        }

        /// Unbuffered: a reader of our output (a test, a pipe) sees each line at once.
        static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }
}
