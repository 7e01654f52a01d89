/// What a user may do; protocol.md lists the roles allowed for each command.
public enum Role: String, CaseIterable, Sendable {
    case processor, sales, service, admin, integration
}

/// A person or program that logs in.
public struct User: Sendable, Equatable {
    public var name: String
    public var role: Role
    /// The salted slow hash of the password; only the server's password module reads it.
    public var credential: Credential
    /// A disabled user cannot log in; an admin enables them again. Their name stays (orders,
    /// notes and history keep naming them).
    public var isDisabled: Bool
    /// When the user last logged in; nil if never (or before the desk recorded it).
    public var lastLogin: Instant?

    public init(name: String, role: Role, credential: Credential, isDisabled: Bool = false, lastLogin: Instant? = nil) {
        self.name = name
        self.role = role
        self.credential = credential
        self.isDisabled = isDisabled
        self.lastLogin = lastLogin
    }
}

/// A stored password: PBKDF2-HMAC-SHA256 with a per-user salt. Never the password itself.
public struct Credential: Sendable, Equatable {
    public var salt: [UInt8]
    public var hash: [UInt8]
    public var iterations: Int

    public init(salt: [UInt8], hash: [UInt8], iterations: Int) {
        self.salt = salt
        self.hash = hash
        self.iterations = iterations
    }
}

/// Rules for user names: they appear bare on the wire and after `@` in notes.
public enum UserName {
    public static let maximumLength = 32

    /// A letter, then ASCII letters, digits, `_`, `.` and `-`, not ending in `.` or `-`; at most
    /// `maximumLength` bytes (checked first: a hostile 8,000-byte name costs nothing more to refuse).
    public static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximumLength, ASCII.isLetter(first),
              last != UInt8(ascii: "."), last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// A character a user name may hold (for `@name` mentions in free text).
    static func isValidCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "." || character == "-")
    }
}

/// The one rule for passwords, for USER ADD on the wire and `orderdesk user add` alike.
public enum PasswordRule {
    public static let minimumLength = 8
    /// Longer passwords are refused before hashing: a LOGIN's cost must not grow with its line.
    public static let maximumLength = 1024

    /// Why `password` is not acceptable as a new password, or nil when it is.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "a password needs at least \(minimumLength) characters" }
        if password.utf8.count > maximumLength { return "a password has at most \(maximumLength) bytes" }
        return nil
    }
}
