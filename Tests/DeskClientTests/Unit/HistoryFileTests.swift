import Foundation
import Testing
import TestSupport
@testable import DeskClientKit

@Suite("HistoryFile")
struct HistoryFileTests {
    @Test("never a LOGIN line, never a line with the password as a word")
    func storable() {
        #expect(!HistoryFile.isStorable("LOGIN ana s3cret", secret: nil))
        #expect(!HistoryFile.isStorable("login ana s3cret", secret: nil))
        #expect(!HistoryFile.isStorable("NOTE SO-1 s3cret", secret: "s3cret"))
        #expect(!HistoryFile.isStorable("PASSWORD old-one new-secret-9", secret: nil))
        #expect(!HistoryFile.isStorable("user password ben reset-pass-1", secret: nil))
        #expect(HistoryFile.isStorable("USER DISABLE ben left", secret: nil))
        #expect(!HistoryFile.isStorable("s3cret", secret: "s3cret"))
        #expect(HistoryFile.isStorable("NOTE SO-1 not-s3cret", secret: "s3cret"))
        #expect(HistoryFile.isStorable("QUEUE new", secret: "s3cret"))
    }

    @Test("lines appended to a private file in a private folder, read back oldest first")
    func appendAndLoad() throws {
        let path = temporaryDirectory() + "/state/orderdesk/history"
        let file = HistoryFile(path: path)
        #expect(file.load() == [])
        file.append("QUEUE new")
        file.append("ORDER SO-1")
        #expect(file.load() == ["QUEUE new", "ORDER SO-1"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)
        #expect(folder[.posixPermissions] as? Int == 0o700)
    }

    @Test("a history file left readable by others is made private on the next write")
    func tightensMode() throws {
        let path = temporaryDirectory() + "/history"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("WHO\n".utf8), attributes: [.posixPermissions: 0o644]))
        HistoryFile(path: path).append("PING")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
    }

    @Test("a file grown past twice the limit is cut back to the newest lines")
    func compaction() throws {
        let path = temporaryDirectory() + "/history"
        let file = HistoryFile(path: path, limit: 3)
        for number in 1...7 { file.append("ORDER SO-\(number)") }
        #expect(file.load() == ["ORDER SO-5", "ORDER SO-6", "ORDER SO-7"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "ORDER SO-5\nORDER SO-6\nORDER SO-7\n")
    }
}
