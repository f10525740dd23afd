using SkiaSharp;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>A report's PNG figure decoded and looked at pixel by pixel: the size asked for, and drawn (not blank).</summary>
public static class FigureCheck
{
    public static void AssertDrawn(string path, int width, int height)
    {
        string name = System.IO.Path.GetFileName(path);
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<uint>();
        long drawn = 0;
        var background = bitmap.GetPixel(0, 0);
        for (int y = 0; y < bitmap.Height; y++)
        for (int x = 0; x < bitmap.Width; x++)
        {
            var pixel = bitmap.GetPixel(x, y);
            colours.Add((uint)pixel);
            if (pixel != background) drawn++;
        }
        double drawnShare = (double)drawn / (bitmap.Width * bitmap.Height);
        // Text, axes, grid and curves in several colours; a blank or failed render is one or two colours.
        Assert.True(colours.Count > 50, $"{name}: only {colours.Count} distinct colours");
        Assert.True(drawnShare > 0.03, $"{name}: only {drawnShare:P2} of the pixels differ from the background");
    }
}
