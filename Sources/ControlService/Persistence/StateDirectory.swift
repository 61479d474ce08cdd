import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where control keeps its state when neither `--state-dir` nor `control.state_dir`
/// says: `/var/lib/phasor` for root (a system service), else the XDG state folder
/// (`$XDG_STATE_HOME/phasor`, by default `~/.local/state/phasor`).
enum StateDirectory {
    static func resolve(flag: String?, configured: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if let flag { return flag }
        if let configured { return configured }
        if geteuid() == 0 { return "/var/lib/phasor" }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/phasor" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/phasor"
    }
}

extension ControlLoopService {
    /// The state folder: the flag, else the site file's `control.state_dir`, else the default.
    public static func stateDirectory(flag: String?, configured: String?) -> String {
        StateDirectory.resolve(flag: flag, configured: configured)
    }
}
