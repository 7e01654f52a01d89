import Testing
@testable import OrderDeskCore

/// The parser's byte-level readers (amounts, order lines, user names) hold to the rules they
/// replaced, which read Characters and Substrings: those rules are kept here as the reference,
/// and random texts over a small alphabet (signs, dots, colons, digits, a non-ASCII letter, a
/// CR) must get the same answer from both.
///
/// One difference is meant: `lines=` is split at the bytes `,` and `:` whatever follows them.
/// Split at Characters, a combining mark right after a delimiter joined it into one Character
/// and hid it (`A:1:1,\u{301}B:1:2` was one bad item), and a Prepend mark before one did too;
/// `splitsAtDelimiterBytes` pins the rule, so the reference alphabet has no such marks.
@Suite("Byte-level rules agree with the Character-level ones they replaced")
struct ByteRulesTests {
    static let alphabet: [Character] = ["0", "1", "9", ".", ":", "+", "-", "_", "a", "Z", "é", " ", "\r", ","]

    static func randomText(_ random: inout SplitMix64, maximumLength: Int) -> String {
        String((0..<random.next(below: maximumLength + 1)).map { _ in alphabet[random.next(below: alphabet.count)] })
    }

    /// The amount rule as it was: split at `.`, at most twelve integer digits and two decimals.
    static func referenceMoney(_ text: Substring) -> Money? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 12,
              whole.allSatisfy(\.isASCIIDigit), let units = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard (1...2).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else { return nil }
            fraction = digits.count == 1 ? value * 10 : value
        }
        return Money(cents: units * 100 + fraction)
    }

    /// One order line as it was read: three `:` parts, `Int` for the quantity.
    static func referenceLine(_ item: Substring) -> OrderLine? {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].count <= 64,
              let quantity = Int(parts[1]), quantity > 0, quantity <= 1_000_000,
              let price = referenceMoney(parts[2])
        else { return nil }
        return OrderLine(sku: String(parts[0]), quantity: quantity, unitPrice: price)
    }

    static func referenceUserName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= UserName.maximumLength && name.first?.isLetter == true
            && name.allSatisfy(UserName.isValidCharacter) && name.last != "." && name.last != "-"
    }

    @Test("amounts: 20,000 random texts and the edges")
    func amounts() {
        var random = SplitMix64(seed: 0xA11)
        var texts = ["0", "0.0", "1.", ".5", "999999999999.99", "9999999999999", "1.234", "+1", "-1", "1..2", "1.2.3", ""]
        for _ in 0..<20_000 { texts.append(Self.randomText(&random, maximumLength: 16)) }
        for text in texts {
            #expect(Money(text[...]) == Self.referenceMoney(text[...]), "\(text.debugDescription)")
        }
    }

    @Test("order lines: 20,000 random items and the edges")
    func orderLines() {
        var random = SplitMix64(seed: 0x11E)
        var items = ["WID-1:2:10.50", "W:1000000:0", "W:1000001:1", "W:+3:1", "W:-3:1", "W:0:1", "W:03:1.5", ":1:1", "W:1:", "W::1",
                     "W:1:1:1", String(repeating: "é", count: 64) + ":1:1", String(repeating: "é", count: 65) + ":1:1",
                     "W:99999999999999999999:1", "W:+:1"]
        for _ in 0..<20_000 { items.append(Self.randomText(&random, maximumLength: 14)) }
        for item in items {
            #expect(Arguments.orderLine(Array(item.utf8)[...]) == Self.referenceLine(item[...]), "\(item.debugDescription)")
        }
    }

    @Test("user names: 20,000 random texts and the edges")
    func userNames() {
        var random = SplitMix64(seed: 0x05E)
        var names = ["a", "ana", "a.b", "a.", "a-", "1a", "éa", "aé", "a\r\n", String(repeating: "a", count: 32), String(repeating: "a", count: 33)]
        for _ in 0..<20_000 { names.append(Self.randomText(&random, maximumLength: 10)) }
        for name in names {
            #expect(UserName.isValid(name) == Self.referenceUserName(name), "\(name.debugDescription)")
        }
    }

    @Test("lines= splits at the bytes , and : whatever mark follows them")
    func splitsAtDelimiterBytes() throws {
        let parsed = CommandParser().parse("CAPTURE SO-1 customer=Acme rep=sam po=P-1 lines=A:1:1,\u{301}B:1:2")
        guard case .success(.desk(.capture(let draft))) = parsed else {
            Issue.record("refused: \(parsed)")
            return
        }
        #expect(draft.lines.map(\.sku) == ["A", "\u{301}B"])
        #expect(Arguments.orderLine(Array("A:\u{301}:1:1".utf8)[...]) == nil, "four parts, whatever a mark joins to a colon")
    }
}
