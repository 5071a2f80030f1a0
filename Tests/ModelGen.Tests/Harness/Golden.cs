using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace ModelGen.Tests.Harness;

/// <summary>Golden-file snapshots. Set MODELGEN_UPDATE_GOLDEN=1 to (re)write them, then review the diff.</summary>
internal static class Golden
{
    public static void Verify(string name, string actual, [CallerFilePath] string caller = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(caller)!, "Golden");   // beside the calling test file
        string path = Path.Combine(dir, name);
        actual = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("MODELGEN_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests once with MODELGEN_UPDATE_GOLDEN=1 and review it");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        if (expected == actual) return;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int i = 0;
        while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
        Assert.Fail($"{name} differs from the golden file at line {i + 1}:\n expected: {(i < e.Length ? e[i] : "<end>")}\n actual  : {(i < a.Length ? a[i] : "<end>")}\nIf the change is intended, rerun with MODELGEN_UPDATE_GOLDEN=1 and review the diff.");
    }
}
