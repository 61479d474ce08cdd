import Testing

@Test func placeholderP1Tests() { #expect(Bool(true)) }
