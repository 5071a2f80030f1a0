using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Layers;
using Xunit;
using Xunit.Abstractions;
using ModelGen.Tests.Models;

namespace ModelGen.Tests;

/// <summary>Runs when NVIDIA's ptxas is at <c>.tools/ptxas</c> (or <c>MODELGEN_PTXAS</c>); CI fetches it
/// (<c>tools/get-ptxas.sh .tools</c>) and sets <c>MODELGEN_REQUIRE_PTXAS=1</c>, so there a missing ptxas fails instead.</summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    public PtxasFactAttribute()
    {
        if (Ptxas.Path is null && Environment.GetEnvironmentVariable("MODELGEN_REQUIRE_PTXAS") != "1")
            Skip = "needs ptxas: run tools/get-ptxas.sh .tools (CI does)";
    }
}

public static class Ptxas
{
    public static string? Path
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MODELGEN_PTXAS");
            if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "ModelGen.slnx")))
                {
                    var p = System.IO.Path.Combine(dir.FullName, ".tools", "ptxas");
                    return File.Exists(p) ? p : null;
                }
            return null;
        }
    }

    /// <summary>ptxas's exit code and its output (stdout and stderr) for <paramref name="ptx"/> on <paramref name="arch"/>.</summary>
    public static (int Exit, string Output) Run(string ptx, string arch)
    {
        string path = Path ?? throw new InvalidOperationException("ptxas not found: run tools/get-ptxas.sh .tools");
        string file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"modelgen-{Guid.NewGuid():N}.ptx");
        File.WriteAllText(file, ptx);
        try
        {
            var psi = new ProcessStartInfo(path, $"-arch={arch} -v --warning-as-error {file} -o /dev/null") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd() + err.Result;
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        finally { File.Delete(file); }
    }
}

public class PtxasTests
{
    private readonly ITestOutputHelper _out;
    public PtxasTests(ITestOutputHelper output) => _out = output;

    /// <summary>Every generated twin in this assembly (the test models use every kind that has PTX).</summary>
    public static IEnumerable<(string Model, string Ptx)> Modules() =>
        typeof(PtxasTests).Assembly.GetTypes()
            .Select(t => (t, twin: t.GetNestedType("Cuda")))
            .Where(x => x.twin?.GetProperty("PtxText", BindingFlags.Public | BindingFlags.Static) is not null)
            .Select(x => (x.t.Name, (string)x.twin!.GetProperty("PtxText")!.GetValue(null)!))
            .OrderBy(x => x.Name);

    [PtxasFact]
    public void Every_kernel_of_every_model_assembles_for_sm_70_80_90_without_warnings_or_spills()
    {
        var modules = Modules().ToList();
        Assert.True(modules.Count >= 10, $"found only {modules.Count} twins");
        foreach (var (model, ptx) in modules)
            foreach (var arch in new[] { "sm_70", "sm_80", "sm_90" })
            {
                var (exit, output) = Ptxas.Run(ptx, arch);
                Assert.True(exit == 0, $"{model} for {arch}: ptxas exit {exit}\n{output}");
                var spills = Regex.Matches(output, @"(\d+) bytes spill stores, (\d+) bytes spill loads").Select(m => int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value));
                Assert.True(spills.All(s => s == 0), $"{model} for {arch}: spills\n{output}");
                if (arch == "sm_80")
                    foreach (Match m in Regex.Matches(output, @"Compiling entry function '(\w+)'[\s\S]*?Used (\d+) registers(?:, (\d+) bytes smem)?"))
                        _out.WriteLine($"{model,-16} {m.Groups[1].Value,-24} {m.Groups[2].Value,3} registers {(m.Groups[3].Success ? m.Groups[3].Value : "0"),6} B shared");
            }
    }

    /// <summary>The PTX of every network declared in the samples (the zoo's VGG and ResNet included), generated here
    /// from their sources: (file, class, module) for each network whose kinds all have PTX.</summary>
    public static IEnumerable<(string Model, string Ptx)> SampleModules()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(System.IO.Path.Combine(root, "ModelGen.slnx"))) root = Directory.GetParent(root)!.FullName;
        foreach (var file in Directory.EnumerateFiles(System.IO.Path.Combine(root, "Samples"), "*.cs", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
        {
            if (file.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}") || file.Contains($"{System.IO.Path.DirectorySeparatorChar}bin{System.IO.Path.DirectorySeparatorChar}")) continue;
            string text = File.ReadAllText(file);
            if (!text.Contains("[Network(", StringComparison.Ordinal)) continue;
            var r = Harness.GeneratorHarness.Run(text);
            foreach (var source in r.Run.Results.Single().GeneratedSources.Where(s => s.HintName.EndsWith(".Cuda.g.cs", StringComparison.Ordinal)))
            {
                string code = source.SourceText.ToString();
                int start = code.IndexOf("Ptx => \"\"\"\n", StringComparison.Ordinal);
                if (start < 0) continue;   // a twin that names the kinds without PTX
                start = code.IndexOf('\n', start) + 1;
                int end = code.IndexOf("    \"\"\"u8;", start, StringComparison.Ordinal);
                string ptx = string.Join("\n", code[start..end].Split('\n').Select(l => l.Length >= 4 ? l[4..] : l));
                yield return ($"{System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(file))}/{source.HintName.Replace(".Cuda.g.cs", "")}", ptx);
            }
        }
    }

    [PtxasFact]
    public void Every_kernel_of_every_sample_and_zoo_model_assembles_for_sm_70_80_90()
    {
        var modules = SampleModules().ToList();
        _out.WriteLine("samples with a GPU twin: " + string.Join(", ", modules.Select(m => m.Model)));
        Assert.True(modules.Count >= 5, $"found only {modules.Count} sample networks with PTX");
        foreach (var (model, ptx) in modules)
            foreach (var arch in new[] { "sm_70", "sm_80", "sm_90" })
            {
                var (exit, output) = Ptxas.Run(ptx, arch);
                Assert.True(exit == 0, $"{model} for {arch}: ptxas exit {exit}\n{output}");
                Assert.DoesNotMatch(@"[1-9]\d* bytes spill (stores|loads)", output);
            }
    }

    [PtxasFact]
    public void Broken_PTX_is_rejected_with_the_line()
    {
        string ptx = GcRelu.Cuda.PtxText;
        string broken = ptx.Replace("fma.rn.f32", "fma.rn.f33");
        var (exit, output) = Ptxas.Run(broken, "sm_80");
        Assert.NotEqual(0, exit);
        Assert.Matches(@"line \d+; error", output);
        // A PTX ISA version this ptxas (11.8: ≤ 7.8) does not know.
        var (exit2, _) = Ptxas.Run(ptx.Replace(".version 7.0", ".version 9.9"), "sm_80");
        Assert.NotEqual(0, exit2);
    }

    [Fact]
    public void Every_module_declares_the_default_dialect_and_writes_floats_as_bit_patterns()
    {
        foreach (var (model, ptx) in Modules())
        {
            Assert.Contains(".version 7.0\n.target sm_70\n.address_size 64\n", ptx);
            // No decimal float immediates: every f32 literal is 0fXXXXXXXX.
            Assert.DoesNotMatch(@"\.f32\s+%f\d+,[^;]*\b\d+\.\d+", ptx);
            Assert.Contains("// launch: grid", ptx);
        }
    }

    /// <summary>The kinds without PTX yet, written down: a kind that gains its PTX is removed here (the twin tests then
    /// cover it through a model), and a new kind without PTX must be added consciously.</summary>
    [Fact]
    public void Kinds_without_PTX_are_the_known_list()
    {
        var without = LayerRegistry.All.Where(k => k is not IPtxLayer).Select(k => k.Name).OrderBy(n => n).ToArray();
        Assert.Empty(without);
    }
}
