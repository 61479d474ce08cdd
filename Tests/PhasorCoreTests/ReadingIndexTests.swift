import Foundation
import Testing

@testable import PhasorCore

/// `Reading` finds its values through its own hash table: order, replacement of a
/// repeated quantity and lookups must hold however many values it grows to.
@Suite struct ReadingIndexTests {
    let time = MeterTimestamp(date: Date(timeIntervalSince1970: 1_773_133_200), utcOffsetSeconds: 3600)

    @Test func keepsOrderReplacesRepeatsAndFindsEveryValueAsItGrows() {
        var reading = Reading(device: "p1", time: time)
        for i in 0..<300 { reading.set(Quantity("q\(i)"), Double(i)) }
        reading.set("q7", 70)
        reading.set(.power, .text("x"))
        #expect(reading.values.count == 301)
        #expect(reading.values.map(\.quantity.rawValue).prefix(3) == ["q0", "q1", "q2"])
        #expect(reading.values.last?.quantity == .power)
        #expect(reading.number("q7") == 70)
        #expect(reading["power"]?.text == "x")
        for i in 0..<300 where i != 7 { #expect(reading.number(Quantity("q\(i)")) == Double(i)) }
        #expect(reading["q300"] == nil)
        #expect(reading["q"] == nil)
    }

    @Test func aRepeatInTheInitialValuesKeepsTheLaterValueAtTheFirstPlace() {
        let reading = Reading(device: "p1", time: time, values: [("a", .number(1)), ("b", .number(2)), ("a", .number(3))])
        #expect(reading.values.map(\.quantity) == ["a", "b"])
        #expect(reading.number("a") == 3)
        #expect(reading == Reading(device: "p1", time: time, values: [("a", .number(3)), ("b", .number(2))]))
    }

    @Test func labeledValuesGiveTheSameReadingAsTheInitialValues() {
        let distinct: [(quantity: Quantity, value: MeasuredValue)] = (0..<40).map { (Quantity("q\($0)"), .number(Double($0))) }
        let adopted = Reading(device: "p1", time: time, labeledValues: distinct)
        #expect(adopted == Reading(device: "p1", time: time, values: distinct.map { ($0.quantity, $0.value) }))
        for i in 0..<40 { #expect(adopted.number(Quantity("q\(i)")) == Double(i)) }
        #expect(adopted["q40"] == nil)

        let repeated: [(quantity: Quantity, value: MeasuredValue)] = [("a", .number(1)), ("b", .number(2)), ("a", .number(3))]
        let withRepeat = Reading(device: "p1", time: time, labeledValues: repeated)
        #expect(withRepeat.values.map(\.quantity) == ["a", "b"])
        #expect(withRepeat.number("a") == 3)
        #expect(withRepeat == Reading(device: "p1", time: time, values: repeated.map { ($0.quantity, $0.value) }))
    }
}
