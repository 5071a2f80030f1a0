using System;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator;

/// <summary>
/// The ModelGen incremental generator. Pipeline wiring only:
/// parse (attributes → <see cref="NetworkSpec"/>) → analyse (shapes, counts, layout → <see cref="NetworkPlan"/>)
/// → emit (C# backend). Diagnostics travel on their own output so that they never force code to be re-emitted.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. Parse every [Network] class into plain data (the cache boundary).
        var parsed = context.SyntaxProvider.ForAttributeWithMetadataName(
            "ModelGen.NetworkAttribute",
            static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
            static (ctx, ct) => SafeParse(ctx, ct))
            .WithTrackingName("Parse");

        // 2. Shape inference and layout.
        var analysed = parsed.Select(static (p, ct) => NetworkAnalyzer.Analyze(p, ct)).WithTrackingName("Analyze");

        // 3. Diagnostics, reported on their own.
        context.RegisterSourceOutput(analysed.Select(static (a, _) => a.Diagnostics).WithTrackingName("Diagnostics"), static (spc, diags) =>
        {
            foreach (var d in diags) spc.ReportDiagnostic(ToDiagnostic(d));
        });

        // 4. Code, from valid plans; a declaration with errors gets only its partial members' bodies (stubs), so that
        //    the user sees ModelGen's diagnostics and not one CS9248 per member. Neither model holds a Location, and
        //    everything written is culture-invariant (Analysis.Text), so an edit elsewhere or a German compiler changes nothing.
        var plans = analysed.Select(static (a, _) => a.Plan).WithTrackingName("Plan");
        context.RegisterSourceOutput(plans, static (spc, plan) =>
        {
            if (plan is null) return;
            string main, kernels, cuda;
            try { (main, kernels) = NetworkEmitter.Emit(plan); }
            catch (Exception e)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Descriptors.InternalError, null, plan.ClassName, "(emit)", e.GetType().Name + ": " + e.Message));
                return;
            }
            // The PTX backend apart: a failure there costs the GPU twin (a stub that says why, and MG0099), never the C# code.
            try { cuda = Emit.Ptx.CudaEmitter.Emit(plan, cw => NetworkEmitter.WriteHeader(cw, plan)); }
            catch (Exception e)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Descriptors.InternalError, null, plan.ClassName, "(PTX)", e.GetType().Name + ": " + e.Message));
                cuda = Emit.Ptx.CudaEmitter.EmitStub(plan, cw => NetworkEmitter.WriteHeader(cw, plan), "the PTX backend failed: " + e.GetType().Name);
            }
            spc.AddSource(plan.FullName + ".g.cs", main);
            spc.AddSource(plan.FullName + ".Kernels.g.cs", kernels);
            spc.AddSource(plan.FullName + ".Cuda.g.cs", cuda);
        });
        var stubs = analysed.Select(static (a, _) => a.Stub).WithTrackingName("Stub");
        context.RegisterSourceOutput(stubs, static (spc, stub) =>
        {
            if (stub is null || stub.Members.Count == 0) return;
            spc.AddSource((stub.Namespace.Length > 0 ? stub.Namespace + "." : "") + stub.ClassName + ".g.cs", StubEmitter.Emit(stub));
        });

        // 5. NativeAOT without an instruction set would run the vector paths in software: say so.
        var aot = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
        {
            o.GlobalOptions.TryGetValue("build_property.PublishAot", out var publishAot);
            o.GlobalOptions.TryGetValue("build_property.IlcInstructionSet", out var isa);
            return string.Equals(publishAot, "true", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(isa);
        });
        context.RegisterSourceOutput(aot, static (spc, missing) =>
        {
            if (missing) spc.ReportDiagnostic(Diagnostic.Create(Descriptors.AotWithoutInstructionSet, Location.None));
        });
    }

    private static ParseResult SafeParse(GeneratorAttributeSyntaxContext ctx, System.Threading.CancellationToken ct)
    {
        try { return NetworkParser.Parse(ctx, ct); }
        catch (OperationCanceledException) { throw; }
        catch (Exception e)
        {
            var d = DiagnosticInfo.Create(Descriptors.InternalError, LocationInfo.From(ctx.TargetNode.GetLocation()),
                ctx.TargetSymbol.Name, "(parse)", e.GetType().Name + ": " + e.Message);
            return new ParseResult(null, new EquatableArray<DiagnosticInfo>(new[] { d }));
        }
    }

    private static Diagnostic ToDiagnostic(DiagnosticInfo d)
    {
        var args = new object[d.Args.Count];
        for (int i = 0; i < args.Length; i++) args[i] = d.Args[i];
        return Diagnostic.Create(Descriptors.ById[d.Id], d.Location?.ToLocation(), args);
    }
}
