/// One key press (or pasted run of text) as the line editor sees it.
public enum Key: Equatable, Sendable {
    /// Printable text: usually one character, more when typed fast.
    case text(String)
    /// A bracketed paste (`ESC[200~` ... `ESC[201~`), control characters and line breaks
    /// included: text to insert, never keys to act on.
    case paste(String)
    case enter
    case tab
    case backspace
    case delete
    case left
    case right
    case up
    case down
    case home
    case end
    /// Ctrl-Left, Alt-Left and the like: to the start of the previous word.
    case wordLeft
    /// Ctrl-Right, Alt-Right and the like: to the end of the next word.
    case wordRight
    /// Ctrl and a letter (`a`...`z`, lower-case), for the letters without a key of their own.
    case control(Character)
    /// Alt (Meta) and a character, sent by terminals as ESC then the character.
    case alt(Character)
    /// Alt-Backspace.
    case altBackspace
    /// F1 ... F12 (`function(2)` is F2).
    case function(Int)
    /// A lone ESC.
    case escape
    /// An escape sequence the editor does not use; ignored.
    case unknown
}
