import OrderDeskWire

/// One data line (or the rest of an OK line) split into its plain words and its `key=value` fields.
///
/// `SO-10042 stage=captured customer="Acme Corp"` has the word `SO-10042` and two fields;
/// `hold id=1 type=pricing ...` has the word `hold`. Field order is kept for display.
public struct Record: Equatable, Sendable {
    /// Plain words, in order, wherever they stand in the line.
    public var words: [String] = []
    /// Fields in the order they appear.
    public var fields: [(key: String, value: String)] = []

    public init(_ line: String) {
        guard let tokens = try? Tokenizer.tokens(line) else {
            // Not valid wire text (a newer server's shape?): keep it as plain words.
            words = line.split(separator: " ").map(String.init)
            return
        }
        for token in tokens {
            if let key = token.key { fields.append((key, token.value)) } else { words.append(token.value) }
        }
    }

    /// A record made of given parts (the rest of a line after its first word, say).
    public init(words: [String], fields: [(key: String, value: String)]) {
        self.words = words
        self.fields = fields
    }

    /// The value of field `key`, if present.
    public subscript(key: String) -> String? {
        fields.first { $0.key == key }?.value
    }

    /// The fields as a dictionary (a repeated key keeps its last value).
    public var fieldDictionary: [String: String] {
        var dictionary: [String: String] = [:]
        for field in fields { dictionary[field.key] = field.value }
        return dictionary
    }

    public static func == (left: Record, right: Record) -> Bool {
        left.words == right.words && left.fields.map(\.key) == right.fields.map(\.key) && left.fields.map(\.value) == right.fields.map(\.value)
    }
}
