using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator;

namespace ModelGen.Tests.Harness;

/// <summary>Runs the ModelGen generator in memory on a source text, as the compiler would.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    private static readonly MetadataReference[] References = Basic.Reference.Assemblies.Net100.References.All
        .Cast<MetadataReference>()
        .Append(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location))
        .Append(MetadataReference.CreateFromFile(typeof(Layer).Assembly.Location))
        .ToArray();

    public sealed record Result(Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, GeneratorDriverRunResult Run, GeneratorDriver Driver)
    {
        /// <summary>Errors and warnings of the compilation after generation (generated code included).</summary>
        public IEnumerable<Diagnostic> CompileDiagnostics => Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning);
        public string Source(string hintSuffix) => Run.Results.Single().GeneratedSources.Single(s => s.HintName.EndsWith(hintSuffix, StringComparison.Ordinal)).SourceText.ToString();
    }

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("ModelGenTestInput",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Input{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Release));

    public static GeneratorDriver Driver(IReadOnlyDictionary<string, string>? buildProperties = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            optionsProvider: buildProperties is null ? null : new Options(buildProperties),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static Result Run(string source, IReadOnlyDictionary<string, string>? buildProperties = null)
    {
        var driver = Driver(buildProperties).RunGeneratorsAndUpdateCompilation(Compilation(source), out var output, out var diags);
        return new Result(output, diags, driver.GetRunResult(), driver);
    }

    /// <summary>Compiles generated networks and loads them into this process.</summary>
    public static Assembly Load(Compilation output)
    {
        using var ms = new MemoryStream();
        var emit = output.Emit(ms);
        if (!emit.Success)
            throw new InvalidOperationException("compilation failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        return Assembly.Load(ms.ToArray());
    }

    private sealed class Options : AnalyzerConfigOptionsProvider
    {
        private readonly GlobalOptions _global;
        public Options(IReadOnlyDictionary<string, string> props) => _global = new GlobalOptions(props);
        public override AnalyzerConfigOptions GlobalOptions => _global;
        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _global;
        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _global;
    }

    private sealed class GlobalOptions : AnalyzerConfigOptions
    {
        private readonly IReadOnlyDictionary<string, string> _props;
        public GlobalOptions(IReadOnlyDictionary<string, string> props) => _props = props;
        public override bool TryGetValue(string key, out string value)
        {
            const string prefix = "build_property.";
            if (key.StartsWith(prefix, StringComparison.Ordinal) && _props.TryGetValue(key.Substring(prefix.Length), out var v)) { value = v; return true; }
            value = "";
            return false;
        }
    }
}
