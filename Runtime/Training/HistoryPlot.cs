using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace ModelGen.Training;

/// <summary>Writes a <see cref="History"/> as an SVG plot: loss (train, test) and accuracy (train, test) per epoch.
/// A small writer of its own: no plotting dependency, nothing native, AOT-safe.</summary>
public static class HistoryPlot
{
    private const int PanelW = 420, PanelH = 300, Left = 60, Top = 40, Bottom = 45, Right = 15;

    /// <summary>Writes the plot to <paramref name="path"/> (atomically: temporary file, then rename).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="history"/> is null.</exception>
    /// <exception cref="System.IO.IOException">The file cannot be written.</exception>
    public static void SaveSvg(this History history, string path, string title = "training history")
    {
        ArgumentNullException.ThrowIfNull(history);
        string svg = ToSvg(history, title);
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, svg, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The plot as SVG text.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="history"/> is null.</exception>
    public static string ToSvg(History history, string title = "training history")
    {
        ArgumentNullException.ThrowIfNull(history);
        var e = history.Epochs;
        var sb = new StringBuilder();
        int w = 2 * PanelW;
        sb.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{PanelH + 30}\" viewBox=\"0 0 {w} {PanelH + 30}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        sb.Append(F($"<rect width=\"{w}\" height=\"{PanelH + 30}\" fill=\"white\"/>\n"));
        sb.Append(F($"<text x=\"{w / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n"));
        Panel(sb, 0, "loss", e.Select(x => (double)x.TrainLoss).ToList(), e.Select(x => (double)x.TestLoss).ToList(), e.Select(x => x.Epoch).ToList());
        Panel(sb, PanelW, "accuracy", e.Select(x => (double)x.TrainAccuracy).ToList(), e.Select(x => (double)x.TestAccuracy).ToList(), e.Select(x => x.Epoch).ToList());
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Panel(StringBuilder sb, int x0, string name, List<double> train, List<double> test, List<int> epochs)
    {
        int px = x0 + Left, py = Top + 10, pw = PanelW - Left - Right, ph = PanelH - Top - Bottom;
        sb.Append(F($"<g><text x=\"{x0 + PanelW / 2}\" y=\"{Top}\" text-anchor=\"middle\">{name}</text>\n"));
        sb.Append(F($"<rect x=\"{px}\" y=\"{py}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#444\"/>\n"));
        var all = train.Concat(test).Where(double.IsFinite).ToList();
        if (epochs.Count == 0 || all.Count == 0) { sb.Append("</g>\n"); return; }
        double lo = all.Min(), hi = all.Max();
        if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
        double pad = (hi - lo) * 0.05; bool nonNegative = lo >= 0; lo -= pad; hi += pad;
        if (nonNegative) lo = Math.Max(lo, 0);
        int e0 = epochs[0], e1 = Math.Max(epochs[^1], e0 + 1);
        double X(int ep) => px + (double)(ep - e0) / (e1 - e0) * pw;
        double Y(double v) => py + ph - (v - lo) / (hi - lo) * ph;
        for (int i = 0; i <= 4; i++)
        {
            double v = lo + (hi - lo) * i / 4;
            sb.Append(F($"<line x1=\"{px}\" x2=\"{px + pw}\" y1=\"{Y(v):F1}\" y2=\"{Y(v):F1}\" stroke=\"#ddd\"/><text x=\"{px - 5}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{v:G3}</text>\n"));
        }
        int stepE = Math.Max(1, (e1 - e0) / 8);
        for (int ep = e0; ep <= e1; ep += stepE)
            sb.Append(F($"<text x=\"{X(ep):F1}\" y=\"{py + ph + 16}\" text-anchor=\"middle\">{ep}</text>\n"));
        sb.Append(F($"<text x=\"{px + pw / 2}\" y=\"{py + ph + 34}\" text-anchor=\"middle\">epoch</text>\n"));
        Line(sb, train, epochs, X, Y, "#1f77b4", "train");
        Line(sb, test, epochs, X, Y, "#d62728", "test");
        sb.Append(F($"<text x=\"{px + pw - 100}\" y=\"{Top}\" fill=\"#1f77b4\">━ train</text><text x=\"{px + pw - 45}\" y=\"{Top}\" fill=\"#d62728\">━ test</text>\n"));
        sb.Append("</g>\n");
    }

    private static void Line(StringBuilder sb, List<double> ys, List<int> epochs, Func<int, double> X, Func<double, double> Y, string color, string name)
    {
        var pts = Enumerable.Range(0, ys.Count).Where(i => double.IsFinite(ys[i])).Select(i => F($"{X(epochs[i]):F1},{Y(ys[i]):F1}")).ToList();
        if (pts.Count == 0) return;
        sb.Append(F($"<polyline class=\"{name}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", pts)}\"/>\n"));
        foreach (var p in pts) { var xy = p.Split(','); sb.Append(F($"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"2.5\" fill=\"{color}\"/>")); }
        sb.Append('\n');
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
