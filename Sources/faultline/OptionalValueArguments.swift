/// swift-argument-parser has no options whose value may be left out; this gives such an option `-` (standard
/// output) when it is last or followed by another option.
enum OptionalValueArguments {
    static func normalize(_ arguments: [String], options: Set<String>) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            result.append(argument)
            if argument == "--" {
                result += arguments[(index + 1)...]
                break
            }
            if options.contains(argument) {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next == nil || (next?.hasPrefix("-") == true && next != "-") {
                    result.append("-")
                }
            }
            index += 1
        }
        return result
    }
}
