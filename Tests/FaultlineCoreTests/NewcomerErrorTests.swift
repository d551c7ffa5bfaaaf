import FaultlineCore
import Foundation
import Testing

/// The errors a newcomer meets first, in their own terms rather than libyaml's, each still at FILE:LINE:COLUMN.
@Suite("Errors a newcomer understands")
struct NewcomerErrorTests {
    @Test func aTabSaysItIsATab() {
        #expect(
            problems("version: 1\nrules:\n\t- path: /x\n")
                == ["3:1: A tab character is here; YAML indents with spaces only. Replace the tab with spaces."]
        )
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n\tstatus: 200\n")
                == ["4:1: A tab character is here; YAML indents with spaces only. Replace the tab with spaces."]
        )
    }

    @Test func anOverIndentedKeyNamesBothColumns() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n     status: 200\n")
                == [
                    "4:6: The key 'status' starts in column 6, but the key 'path' above it (line 3) starts in column 5; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
    }

    @Test func anUnderIndentedKeyNamesBothColumns() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n   status: 200\n")
                == [
                    "4:4: The key 'status' starts in column 4, but the key 'path' above it (line 3) starts in column 5; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n    match:\n      query: {a: b}\n     headers: {a: b}\n")
                == [
                    "6:6: The key 'headers' starts in column 6, but the key 'query' above it (line 5) starts in column 7; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
    }

    @Test func aTopLevelKeyIndentedByMistake() {
        #expect(
            problems("version: 1\n  rules:\n  - path: /x\n")
                == [
                    "2:3: The key 'rules' starts in column 3, but the key 'version' above it (line 1) starts in column 1; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
    }

    @Test func commentsAndBlankLinesBetweenDoNotCount() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n\n    # the answer\n     status: 200\n")
                == [
                    "6:6: The key 'status' starts in column 6, but the key 'path' above it (line 3) starts in column 5; "
                        + "the keys of one mapping must start in the same column."
                ]
        )
    }

    @Test func aListItemOutOfLine() {
        #expect(
            problems("version: 1\nrules:\n  - path: /a\n   - path: /b\n")
                == [
                    "4:4: This list item's '-' is in column 4, but the one above it (line 3) is in column 3; the items "
                        + "of one list must start in the same column."
                ]
        )
    }

    @Test func aColonInAValueSaysToQuoteIt() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n    body: note: this\n")
                == [
                    "4:15: This line has a ': ' where YAML does not allow a new mapping; if it is part of a value, put the value in quotes."
                ]
        )
    }

    @Test func aValueStartingWithAReservedCharacterSaysToQuoteIt() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n    body: @home\n")
                == ["4:11: A plain value cannot start with '@' in YAML; put the value in quotes."]
        )
    }

    @Test func otherSyntaxErrorsKeepLibyamlsWordsAndPlace() {
        let found = problems("version: 1\nrules:\n  - path: /a\n    status: [200\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("5:"), "got \(found)")
        #expect(found[0].contains("The YAML is malformed"))
    }

    @Test func aMappingBodySuggestsJSON() {
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n    body: {id: 1}\n")
                == [
                    "4:11: 'body' takes text, found a mapping; for a JSON body written as YAML, use 'json:' instead of 'body:'."
                ]
        )
        #expect(
            problems("version: 1\nrules:\n  - path: /x\n    body: [1, 2]\n")
                == [
                    "4:11: 'body' takes text, found a list; for a JSON body written as YAML, use 'json:' instead of 'body:'."
                ]
        )
    }

    @Test func aFolderIsCalledAFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-folder-\(UInt32.random(in: 0...UInt32.max))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try ScenarioLoader.load(files: [folder.path])
            Issue.record("a folder loaded as a scenario")
        } catch {
            #expect(
                error.description
                    == "\(folder.path):1:1: error: This is a folder, not a scenario file; give the scenario files in it, "
                    + "such as \(folder.path)/*.yaml."
            )
        }
    }
}
