namespace StreamDetect.Engine.Configuration;

/// <summary>
/// A structural check of HOCON text before it is parsed. Akka's HOCON parser accepts unbalanced braces
/// and unterminated strings without complaint (a truncated overlay silently becomes "no settings"),
/// so overlays are checked here first: brackets and braces must balance and strings must end.
/// </summary>
public static class HoconSyntaxCheck
{
    /// <summary>Returns null when the text is well-formed, else "line L, column C: problem".</summary>
    public static string? FindProblem(string text)
    {
        var open = new Stack<(char Bracket, int Line, int Column)>();
        int line = 1, column = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                continue;
            }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                continue;
            }
            if (c == '"')
            {
                bool triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                int startLine = line, startColumn = column;
                if (triple)
                {
                    int end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0) return $"line {startLine}, column {startColumn}: unterminated \"\"\" string";
                    for (int k = i; k < end + 3; k++)
                    {
                        if (text[k] == '\n') { line++; column = 0; } else column++;
                    }
                    i = end + 2;
                    continue;
                }
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\n') return $"line {startLine}, column {startColumn}: unterminated string";
                    if (text[i] == '\\') i++;
                    i++;
                    column++;
                }
                if (i >= text.Length) return $"line {startLine}, column {startColumn}: unterminated string";
                column++;
                continue;
            }
            switch (c)
            {
                case '{' or '[':
                    open.Push((c, line, column));
                    break;
                case '}' or ']':
                    char expected = c == '}' ? '{' : '[';
                    if (open.Count == 0) return $"line {line}, column {column}: '{c}' closes nothing";
                    var top = open.Pop();
                    if (top.Bracket != expected)
                        return $"line {line}, column {column}: '{c}' closes the '{top.Bracket}' opened at line {top.Line}, column {top.Column}";
                    break;
                case '$' when i + 1 < text.Length && text[i + 1] == '{':
                    int close = text.IndexOf('}', i + 2);
                    if (close < 0) return $"line {line}, column {column}: unterminated substitution";
                    column += close - i;
                    i = close;
                    break;
            }
        }
        if (open.Count > 0)
        {
            var (bracket, l, col) = open.Peek();
            return $"line {l}, column {col}: '{bracket}' is never closed";
        }
        return null;
    }
}
