import ArgumentParser

/// A failure the CLI reports as one line on stderr with exit status 1 (argument-parser prints
/// `Error: <description>`). Messages name the offending input and never contain secrets.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any library error into a one-line `CLIError` (its description, first line only).
func reporting<T>(_ context: String? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CLIError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        let text = String(describing: error).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        throw CLIError(context.map { "\($0): \(text)" } ?? text)
    }
}
