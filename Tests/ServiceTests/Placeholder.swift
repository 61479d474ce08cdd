import Testing

@Test func placeholderServiceTests() { #expect(Bool(true)) }
