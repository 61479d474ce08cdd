import Testing

@Test func placeholderModbusTests() { #expect(Bool(true)) }
