/// How free text travels on the wire (see protocol.md, "Words, fields and quoting").
///
/// A word is a run of bytes without spaces. A word that needs spaces, quotes, backslashes,
/// `=` or control characters is written as a quoted string: `"..."` with `\"`, `\\`, `\n`,
/// `\r` and `\t` escapes. A field is `key=value`, where the value is a word or a quoted string.
public enum Quoting {
    /// Returns `text` as a single wire word, quoting it only when it must be.
    public static func word(_ text: String) -> String {
        if !text.isEmpty && !text.utf8.contains(where: WireWriter.needsQuoting) { return text }
        return quoted(text)
    }

    /// Returns `text` as a quoted string, always.
    public static func quoted(_ text: String) -> String {
        var writer = WireWriter(capacity: text.utf8.count + 2)
        writer.quoted(text)
        return writer.text
    }

    /// Returns `key=value` with the value quoted when it must be.
    public static func field(_ key: String, _ value: String) -> String {
        var writer = WireWriter(capacity: key.utf8.count + value.utf8.count + 3)
        writer.field(named: key, value)
        return writer.text
    }

    /// Appends `key=value` to `text`, quoting the value only when it must be.
    public static func appendField(_ key: String, _ value: String, to text: inout String) {
        text += field(key, value)
    }
}
