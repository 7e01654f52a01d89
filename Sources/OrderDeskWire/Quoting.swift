/// How free text travels on the wire (see protocol.md, "Words, fields and quoting").
///
/// A word is a run of bytes without spaces. A word that needs spaces, quotes, backslashes,
/// `=` or control characters is written as a quoted string: `"..."` with `\"`, `\\`, `\n`,
/// `\r` and `\t` escapes. A field is `key=value`, where the value is a word or a quoted string.
public enum Quoting {
    /// Returns `text` as a single wire word, quoting it only when it must be.
    public static func word(_ text: String) -> String {
        if !text.isEmpty && !text.utf8.contains(where: needsQuoting) { return text }
        return quoted(text)
    }

    /// Returns `text` as a quoted string, always.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "  // Other control characters have no escape: they travel as a space.
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    /// Returns `key=value` with the value quoted when it must be.
    public static func field(_ key: String, _ value: String) -> String {
        var text = ""
        appendField(key, value, to: &text)
        return text
    }

    /// Appends `key=value` to `text`, quoting the value only when it must be.
    public static func appendField(_ key: String, _ value: String, to text: inout String) {
        text += key
        text += "="
        if !value.isEmpty && !value.utf8.contains(where: needsQuoting) {
            text += value
        } else {
            text += quoted(value)
        }
    }

    private static func needsQuoting(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "=") || byte == 0x7F
    }
}
