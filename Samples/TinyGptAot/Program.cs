using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using ModelGen.Text;
using TinyGpt;

// NativeAOT text generation: loads the weights Samples/TinyGpt saved, then samples characters with the KV cache
// (each new character one pass over the weights plus attention over the cached steps) and reports tokens/s.
// usage: TinyGptAot [weights.safetensors] [--prompt TEXT] [--length N] [--temperature X] [--top-k K] [--seed N]
string weights = "tiny-gpt.safetensors", prompt = "and it came to pass that ";
int length = 500, topK = 0;
float temperature = 0.8f;
ulong seed = 1;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--prompt": prompt = Next(); break;
        case "--length": length = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--temperature": temperature = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--top-k": topK = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        default:
            if (args[i].StartsWith("--", StringComparison.Ordinal)) { Console.Error.WriteLine($"unknown option {args[i]}"); return 2; }
            weights = args[i];
            break;
    }
}
if (!File.Exists(weights))
{
    Console.Error.WriteLine($"weights file '{weights}' not found: train first with `dotnet run -c Release --project Samples/TinyGpt` (it writes tiny-gpt.safetensors), then pass its path.");
    return 1;
}
static int Id(char ch) => ch == '\n' ? 0 : ch == ' ' ? 1 : ch is >= 'a' and <= 'z' ? ch - 'a' + 2 : 1;
static char Symbol(int id) => id == 0 ? '\n' : id == 1 ? ' ' : (char)('a' + id - 2);

Gpt model;
try { model = Gpt.FromFile(weights); }
catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"cannot use '{weights}' as TinyGpt's weights: {e.Message}");
    return 1;
}
using (model)
{
    var ids = prompt.ToLowerInvariant().Select(Id).ToArray();
    if (ids.Length == 0) ids = new[] { 0 };
    var output = new int[length];
    model.Generate(ids, output.AsSpan(0, Math.Min(16, length)), temperature, topK, seed);   // warm-up
    var clock = Stopwatch.StartNew();
    model.Generate(ids, output, temperature, topK, seed);
    double seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(prompt + new string(output.Select(Symbol).ToArray()));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"result: {ids.Length + length} tokens (prompt and generated) in {seconds * 1000:F0} ms: {(ids.Length + length) / seconds:F0} tokens/s with the KV cache (SIMD width {model.Width})"));
}
return 0;
