/// Phasor's release version: Home Assistant's `origin.sw_version`, the Debian
/// package's version (`scripts/build-deb.sh` reads it from this line).
public enum PhasorVersion {
    public static let string = "0.14.0"
}
