using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;
using ModelGen.Training;

namespace ModelGen.Tests;

/// <summary>
/// <c>dotnet pack</c> makes one package (attributes + runtime in lib/, the generator in analyzers/dotnet/cs, build
/// props); a separate project that references only that package declares, trains, saves and loads a network,
/// and gets MG0016 when it turns on PublishAot without an instruction set.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-pkg-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static string RepoRoot([CallerFilePath] string file = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));

    private static (int Code, string Output) Dotnet(string args, string cwd)
    {
        var psi = new ProcessStartInfo("dotnet", args) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment.Remove("MSBuildSDKsPath");      // the test host's MSBuild settings must not leak into the child
        psi.Environment.Remove("MSBuildExtensionsPath");
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(entireProcessTree: true); return (-1, "timed out: dotnet " + args); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void Packed_package_works_from_a_separate_consumer_project()
    {
        string feed = Path.Combine(_dir, "feed"), consumer = Path.Combine(_dir, "consumer");
        Directory.CreateDirectory(consumer);
        var pack = Dotnet($"pack \"{Path.Combine(RepoRoot(), "Runtime", "ModelGen.Runtime.csproj")}\" -c Release -o \"{feed}\"", RepoRoot());
        Assert.True(pack.Code == 0, pack.Output);
        var nupkg = Assert.Single(Directory.GetFiles(feed, "ModelGen.*.nupkg"));
        using (var zip = System.IO.Compression.ZipFile.OpenRead(nupkg))
        {
            var names = string.Join("\n", System.Linq.Enumerable.Select(zip.Entries, e => e.FullName));
            Assert.Contains("lib/net10.0/ModelGen.Runtime.dll", names);
            Assert.Contains("lib/net10.0/ModelGen.Attributes.dll", names);
            Assert.Contains("analyzers/dotnet/cs/ModelGen.Generator.dll", names);
            Assert.Contains("build/ModelGen.props", names);
        }
        string version = Path.GetFileNameWithoutExtension(nupkg).Substring("ModelGen.".Length);
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        // Restore into a private folder (so no stale ModelGen is ever cached globally), reusing the global cache read-only.
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir, "packages")}" /></config>
              <fallbackPackageFolders><add key="global" value="{globalPackages}" /></fallbackPackageFolders>
              <packageSources><clear /><add key="local" value="{feed}" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="ModelGen" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors><ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
              </PropertyGroup>
              <ItemGroup><PackageReference Include="ModelGen" Version="{version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using System;
            using ModelGen;
            using ModelGen.Training;

            using var net = new Xor(maxBatch: 4, seed: 3);
            float[] x = { 0, 0, 0, 1, 1, 0, 1, 1 };
            int[] y = { 0, 1, 1, 0 };
            var sgd = new Sgd(0.5f);
            float first = net.TrainStep(x, y, sgd), last = first;
            for (int i = 0; i < 500; i++) last = net.TrainStep(x, y, sgd);
            net.Save("xor.safetensors");
            using var copy = new Xor(maxBatch: 4, seed: 9);
            copy.Load("xor.safetensors");
            var p = new float[8];
            copy.Predict(x, p);
            int correct = 0;
            for (int i = 0; i < 4; i++) if (Trainer.ArgMax(p.AsSpan(2 * i, 2)) == y[i]) correct++;
            Console.WriteLine(Xor.Summary);
            Console.WriteLine($"loss {first:F3} -> {last:F3}, correct {correct}/4");
            Console.WriteLine(last < first / 4 && correct == 4 ? "consumer ok" : "consumer FAILED");

            [Network(2)]
            public partial class Xor
            {
                [Dense(8), Tanh] public partial Layer Hidden { get; }
                [Dense(2)] public partial Layer Logits { get; }
                [SoftmaxCrossEntropy] public partial Loss Loss { get; }
            }
            """);
        var run = Dotnet("run -c Release", consumer);
        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("consumer ok", run.Output);
        Assert.Contains("Hidden  Dense(8), Tanh", run.Output);

        var aot = Dotnet("build -c Release -p:PublishAot=true -p:TreatWarningsAsErrors=false", consumer);
        Assert.True(aot.Code == 0, aot.Output);
        Assert.Contains("MG0016", aot.Output);
    }
}
