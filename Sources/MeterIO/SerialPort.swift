#if canImport(Glibc)
import Glibc
#endif

/// Opens a serial device with termios in raw mode at the given line settings.
///
/// A pseudo-terminal accepts every setting and ignores it (it has no baud rate and
/// passes bit 7 through): masking 7-bit data is the framers' job, not the port's.
enum SerialPort {
    static func open(path: String, settings: SerialSettings) throws(ByteChannelError) -> any ByteChannel {
        try settings.validate()
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .posix("open \(path)") }
        var t = termios()
        guard tcgetattr(fd, &t) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw .posix("\(path) is not a serial port", code)
        }
        cfmakeraw(&t)
        let speed = speedConstant(settings.baudRate)
        cfsetispeed(&t, speed)
        cfsetospeed(&t, speed)
        t.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(PARODD) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        t.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
        switch settings.dataBits {
        case 5: t.c_cflag |= tcflag_t(CS5)
        case 6: t.c_cflag |= tcflag_t(CS6)
        case 7: t.c_cflag |= tcflag_t(CS7)
        default: t.c_cflag |= tcflag_t(CS8)
        }
        switch settings.parity {
        case .none: break
        case .even: t.c_cflag |= tcflag_t(PARENB)
        case .odd: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(PARODD)
        }
        if settings.stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
        // Parity errors: the byte is passed on (a telegram CRC or TIC checksum catches it).
        t.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY) | tcflag_t(INPCK))
        // Non-blocking reads; poll decides when to read.
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &t) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw .posix("configure \(path) at \(settings)", code)
        }
        // Bytes queued before we opened may be the middle of a telegram: the framer
        // would drop them anyway, flushing keeps the first telegram's latency honest.
        tcflush(fd, TCIFLUSH)
        return FileDescriptorChannel(fd: fd)
    }

    private static func speedConstant(_ baud: Int) -> speed_t {
        switch baud {
        case 1200: speed_t(B1200)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19_200: speed_t(B19200)
        case 38_400: speed_t(B38400)
        case 57_600: speed_t(B57600)
        case 230_400: speed_t(B230400)
        default: speed_t(B115200)
        }
    }
}
