import OrderDeskWire

/// METRICS' data lines: queues, cycle and hold times, clean shipments, processors and the
/// server's own figures (protocol.md, "METRICS"). Part of the encoder: with WireEncoder.swift
/// and its other extensions, the only place field keys are spelled.
extension WireWriter {
    /// METRICS' data lines (protocol.md, "METRICS").
    mutating func metrics(_ report: MetricsReport) {
        let window = report.window.duration
        for queue in report.queues {
            dataLine {
                $0.raw("queue")
                $0.field("name", queue.queue.wireName)
                $0.field("depth", queue.depth)
                $0.field("oldest-seconds", queue.oldest.value / 1000)
                $0.field("oldest", queue.oldest.compact)
                $0.field("stuck", queue.stuck)
            }
        }
        dataLine {
            $0.raw("cycle")
            $0.field("window", window)
            $0.field("shipped", report.cycles.count)
            $0.percentiles(report.cycles)
        }
        for hold in report.holds {
            dataLine {
                $0.raw("hold")
                $0.field("type", hold.type.rawValue)
                $0.field("window", window)
                $0.field("resolved", hold.resolutions.count)
                $0.field("open", hold.open)
                $0.percentiles(hold.resolutions)
            }
        }
        dataLine {
            $0.raw("clean-ship")
            $0.field("window", window)
            $0.field("shipped", report.cycles.count)
            $0.field("without-hold", report.cleanShipments)
            $0.fieldKey("share")
            $0.hundredths(report.cycles.count == 0 ? 0 : (report.cleanShipments * 100 + report.cycles.count / 2) / report.cycles.count)
        }
        for releases in report.releases {
            dataLine {
                $0.raw("processor")
                $0.field("user", releases.user)
                $0.field("window", window)
                $0.field("released", releases.released)
            }
        }
        guard let ops = report.operations else { return }
        dataLine {
            $0.raw("ops")
            $0.field("connections", ops.connections)
            $0.field("sessions", ops.sessions)
            $0.field("users-online", ops.usersOnline)
            $0.field("commands", ops.commands)
            $0.fieldKey("commands-per-second")
            $0.number(ops.commandsPerSecondTenths / 10)
            $0.raw(UInt8(ascii: "."))
            $0.number(ops.commandsPerSecondTenths % 10)
            $0.field("pushes", ops.pushes)
            $0.field("slow-dropped", ops.slowDropped)
            $0.field("refused", ops.refused)
            $0.field("commits", ops.commits)
            $0.field("commit-failures", ops.commitFailures)
            $0.fieldKey("commit-p50-ms")
            $0.hundredths(ops.commitP50Microseconds.map { Int(($0 + 5) / 10) } ?? 0)
            $0.fieldKey("commit-p99-ms")
            $0.hundredths(ops.commitP99Microseconds.map { Int(($0 + 5) / 10) } ?? 0)
        }
    }

    /// `p50-seconds= p90-seconds= p50= p90=`, nearest rank; nothing when nothing was measured.
    private mutating func percentiles(_ values: Percentiles) {
        guard let p50 = values.p50, let p90 = values.p90 else { return }
        field("p50-seconds", p50.value / 1000)
        field("p90-seconds", p90.value / 1000)
        field("p50", p50.compact)
        field("p90", p90.compact)
    }

    /// A count of hundredths as a decimal with two places: `1234` as `12.34`, `0` as `0.00`.
    private mutating func hundredths(_ value: Int) {
        number(value / 100)
        raw(UInt8(ascii: "."))
        padded(Int64(value % 100), width: 2)
    }
}
