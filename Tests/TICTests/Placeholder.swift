import Testing

@Test func placeholderTICTests() { #expect(Bool(true)) }
