using System.Globalization;
using System.Text;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Parsing;

/// <summary>
/// The column layout of a CSV event file: which column holds which event field. Built from the
/// file's header (column names as in the JSON format, or snake_case: user_id, item_id, category_id,
/// behavior_type, timestamp...), or the headerless Taobao UserBehavior layout
/// <c>user_id,item_id,category_id,behavior_type,timestamp</c> (pv/buy/cart/fav -> view/purchase/cart/favorite,
/// timestamp in epoch seconds).
/// </summary>
public sealed class CsvLayout
{
    private enum Field { Ignore, UserId, Ts, Type, Item, Category, Amount, Query, Ip, Device, Session, Label }

    private static readonly Dictionary<string, Field> FieldByColumn = new(StringComparer.OrdinalIgnoreCase)
    {
        ["userId"] = Field.UserId, ["user_id"] = Field.UserId, ["user"] = Field.UserId,
        ["ts"] = Field.Ts, ["timestamp"] = Field.Ts, ["time"] = Field.Ts,
        ["type"] = Field.Type, ["behavior_type"] = Field.Type, ["behavior"] = Field.Type, ["event_type"] = Field.Type,
        ["item"] = Field.Item, ["item_id"] = Field.Item,
        ["category"] = Field.Category, ["category_id"] = Field.Category,
        ["amount"] = Field.Amount, ["price"] = Field.Amount,
        ["query"] = Field.Query,
        ["ip"] = Field.Ip,
        ["device"] = Field.Device,
        ["session"] = Field.Session, ["session_id"] = Field.Session,
        ["label"] = Field.Label,
    };

    private readonly Field[] _columns;

    private CsvLayout(Field[] columns, bool mapsTaobaoBehaviors, bool hasHeader)
    {
        _columns = columns;
        MapsTaobaoBehaviors = mapsTaobaoBehaviors;
        HasHeader = hasHeader;
    }

    /// <summary>Whether the file's first line is a header (and so not an event).</summary>
    public bool HasHeader { get; }

    /// <summary>Whether Taobao behaviour codes (pv, buy, cart, fav) are mapped to StreamDetect types.</summary>
    public bool MapsTaobaoBehaviors { get; }

    public int ColumnCount => _columns.Length;

    /// <summary>The headerless Taobao UserBehavior layout.</summary>
    public static CsvLayout Taobao { get; } = new(
        [Field.UserId, Field.Item, Field.Category, Field.Type, Field.Ts], mapsTaobaoBehaviors: true, hasHeader: false);

    /// <summary>
    /// Chooses the layout from a file's first line: a header naming at least the user, time and type
    /// columns, or a Taobao UserBehavior row. Throws <see cref="FormatException"/> naming the problem.
    /// </summary>
    public static CsvLayout Detect(string firstLine)
    {
        if (firstLine.StartsWith('\uFEFF')) firstLine = firstLine[1..];
        var cells = SplitLine(Encoding.UTF8.GetBytes(firstLine), out _);
        if (cells.Count == 5 && long.TryParse(cells[0], out _) && long.TryParse(cells[4], out _)
            && TaobaoBehavior(cells[3]) is not null)
            return Taobao;

        var columns = cells.Select(c => FieldByColumn.TryGetValue(c.Trim(), out var f) ? f : Field.Ignore).ToArray();
        var missing = new List<string>();
        if (!columns.Contains(Field.UserId)) missing.Add("userId (or user_id)");
        if (!columns.Contains(Field.Ts)) missing.Add("ts (or timestamp)");
        if (!columns.Contains(Field.Type)) missing.Add("type (or behavior_type)");
        if (missing.Count > 0)
            throw new FormatException(
                $"CSV header lacks {string.Join(", ", missing)}; found columns: {string.Join(",", cells.Select(c => c.Length > 32 ? c[..32] : c))}");
        bool taobaoNames = cells.Any(c => c.Trim().Equals("behavior_type", StringComparison.OrdinalIgnoreCase));
        return new CsvLayout(columns, mapsTaobaoBehaviors: taobaoNames, hasHeader: true);
    }

    /// <summary>Decodes one CSV row and validates it (a leading byte-order mark is skipped).</summary>
    public DecodeResult Decode(ReadOnlySpan<byte> row, EventParser parser)
    {
        row = EventParser.SkipByteOrderMark(row);
        if (!System.Text.Unicode.Utf8.IsValid(row))
            return new DecodeResult(null, new Rejection(RejectionReason.InvalidEncoding, "row is not valid UTF-8"));
        var cells = SplitLine(row, out string? error);
        if (error is not null)
            return new DecodeResult(null, new Rejection(RejectionReason.MalformedCsv, error));
        if (cells.Count != _columns.Length)
            return new DecodeResult(null, new Rejection(RejectionReason.MalformedCsv, $"row has {cells.Count} columns, header has {_columns.Length}"));

        var record = new EventRecord();
        for (int i = 0; i < cells.Count; i++)
        {
            string cell = cells[i];
            string? value = cell.Length == 0 ? null : cell;
            switch (_columns[i])
            {
                case Field.UserId: record.UserId = value; break;
                case Field.Ts: record.Ts = ParseTime(value); break;
                case Field.Type: record.Type = value is null ? null : (MapsTaobaoBehaviors ? TaobaoBehavior(value) ?? value : value); break;
                case Field.Item: record.Item = value; break;
                case Field.Category: record.Category = value; break;
                case Field.Query: record.Query = value; break;
                case Field.Ip: record.Ip = value; break;
                case Field.Device: record.Device = value; break;
                case Field.Session: record.Session = value; break;
                case Field.Amount:
                    if (value is null) break;
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount))
                        return new DecodeResult(null, new Rejection(RejectionReason.MalformedCsv, $"column {i + 1} (amount) is not a number"));
                    record.Amount = amount;
                    break;
                case Field.Label:
                    if (value is null) break;
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
                        return new DecodeResult(null, new Rejection(RejectionReason.MalformedCsv, $"column {i + 1} (label) is not an integer"));
                    record.Label = label;
                    break;
            }
        }
        return parser.Validate(record);
    }

    private static JsonTimestamp ParseTime(string? value)
    {
        if (value is null) return default;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
            return JsonTimestamp.FromEpochNumber(number) is long ms ? new JsonTimestamp(ms, null) : new JsonTimestamp(null, value);
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return new JsonTimestamp(time.ToUnixTimeMilliseconds(), null);
        return new JsonTimestamp(null, value.Length > 40 ? value[..40] + "..." : value);
    }

    private static string? TaobaoBehavior(string code) => code.Trim() switch
    {
        "pv" => EventTypes.View,
        "buy" => EventTypes.Purchase,
        "cart" => EventTypes.Cart,
        "fav" => EventTypes.Favorite,
        _ => null,
    };

    /// <summary>Splits one RFC 4180 line (quoted fields with doubled quotes; no embedded newlines).</summary>
    private static List<string> SplitLine(ReadOnlySpan<byte> line, out string? error)
    {
        error = null;
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        var cells = new List<string>(8);
        int i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == (byte)'"')
            {
                i++;
                var bytes = new List<byte>();
                bool closed = false;
                while (i < line.Length)
                {
                    if (line[i] == (byte)'"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == (byte)'"') { bytes.Add((byte)'"'); i += 2; continue; }
                        closed = true;
                        i++;
                        break;
                    }
                    bytes.Add(line[i]);
                    i++;
                }
                if (!closed) { error = "unterminated quoted field"; return cells; }
                cells.Add(Encoding.UTF8.GetString(bytes.ToArray()));
                if (i < line.Length && line[i] != (byte)',') { error = "text after a closing quote"; return cells; }
            }
            else
            {
                int comma = line[i..].IndexOf((byte)',');
                int end = comma < 0 ? line.Length : i + comma;
                cells.Add(Encoding.UTF8.GetString(line[i..end]));
                i = end;
            }
            if (i >= line.Length) break;
            i++; // skip the comma
            if (i == line.Length) { cells.Add(""); break; }
        }
        return cells;
    }
}
