import Testing

@Test func placeholderControlTests() { #expect(Bool(true)) }
