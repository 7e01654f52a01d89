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

    public init(name: String, role: Role, credential: Credential) {
        self.name = name
        self.role = role
        self.credential = credential
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

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maximumLength && name.first?.isLetter == true && name.allSatisfy(isValidCharacter)
            && name.last != "." && name.last != "-"
    }

    static func isValidCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "." || character == "-")
    }
}
