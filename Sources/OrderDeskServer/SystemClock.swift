import OrderDeskCore
#if canImport(Glibc)
import Glibc
#endif

/// The wall clock, read only at the server's edge and passed into the desk as `now:`.
public enum SystemClock {
    public static func now() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Instant(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

