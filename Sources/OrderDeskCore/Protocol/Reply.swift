import OrderDeskWire

/// The answer to one command: data lines, then one `OK` or `ERR` line.
public enum Reply: Sendable, Equatable {
    case ok(String, data: [String] = [])
    case failure(DeskError)

    /// The reply as wire text, every line ending in LF.
    public var wireText: String {
        switch self {
        case .ok(let summary, let data):
            var text = ""
            for line in data { text += "* " + line + "\n" }
            return summary.isEmpty ? text + "OK\n" : text + "OK " + summary + "\n"
        case .failure(let error):
            return "ERR " + error.code + " " + error.message + "\n"
        }
    }
}
