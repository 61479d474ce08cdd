import PhasorCore

/// Plain-text tables for the installer's commands (`phasor device test`,
/// `phasor profiles`): columns padded to their widest cell, numbers right-aligned.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []
    /// Columns whose cells are right-aligned.
    public var rightAligned: Set<Int> = []

    public init(header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            header.indices.map { column in
                let cell = cells.indices.contains(column) ? cells[column] : ""
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension TestRow {
    /// The device-test table: one row per register read.
    public static func table(_ rows: [TestRow]) -> TextTable {
        var table = TextTable(header: ["register", "address", "fc", "value", "unit", "raw", "error"], rightAligned: [1, 2, 3])
        for row in rows {
            let value = row.text ?? row.value.map { JSONWriter.format($0) } ?? ""
            let raw = row.raw.map { word in
                let hex = String(word, radix: 16, uppercase: true)
                return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }.joined(separator: " ")
            table.add([row.name, String(row.address), String(row.function), value, row.unit, raw, row.error.map { "\($0)" } ?? ""])
        }
        return table
    }
}
