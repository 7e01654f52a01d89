/// A tiny argument reader: `--flag value`, `--flag=value` and bare switches.
struct Options {
    private(set) var positional: [String] = []
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// Splits `arguments`; `switchNames` take no value.
    init(_ arguments: some Sequence<String>, switchNames: Set<String>) throws {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument.hasPrefix("--") {
                let body = String(argument.dropFirst(2))
                if let equals = body.firstIndex(of: "=") {
                    values[String(body[..<equals])] = String(body[body.index(after: equals)...])
                } else if switchNames.contains(body) {
                    switches.insert(body)
                } else if let value = iterator.next() {
                    values[body] = value
                } else {
                    throw UsageError("--\(body) needs a value")
                }
            } else if argument == "-h" {
                switches.insert("help")
            } else {
                positional.append(argument)
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }
    func has(_ name: String) -> Bool { switches.contains(name) }

    /// Names given that the command does not know.
    func unknown(known: Set<String>) -> [String] {
        (Array(values.keys) + Array(switches)).filter { !known.contains($0) }.sorted()
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("--\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}

/// A mistake on the command line; printed with the usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
