using System;
using ModelGen.Kernels;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>A test of the checked build: it runs under <c>dotnet test -c Checked</c> (CI does) and is reported skipped in
/// other builds, where memory accesses are not checked.</summary>
public sealed class CheckedFactAttribute : FactAttribute
{
    public CheckedFactAttribute()
    {
        if (!Mem.IsChecked) Skip = "runs in the checked build (dotnet test -c Checked)";
    }
}

/// <summary>In the checked build an out-of-bounds access is an exception naming the region, never a dead process.</summary>
public class CheckedBuildTests
{
    [CheckedFact]
    public void Stepping_from_one_named_buffer_into_the_next_throws_naming_the_buffer()
    {
        using var arena = new Arena(64, "Probe");
        arena.Describe(0, 20, "_first");
        arena.Describe(32, 16, "_second");
        ref float first = ref arena.Ref(0);
        Mem.Add(ref first, 19) = 1f;   // the last element: fine
        var e = Assert.Throws<IndexOutOfRangeException>(() => { Mem.Add(ref arena.Ref(0), 20) = 1f; });
        Assert.Contains("index 20 is outside Probe._first (20 elements)", e.Message);
        var v = Assert.Throws<IndexOutOfRangeException>(() => Mem.Load512(ref arena.Ref(32), 8));
        Assert.Contains("elements [8, 24) are outside Probe._second (16 elements)", v.Message);
        Assert.Throws<IndexOutOfRangeException>(() => arena.Ref(64));
    }

    /// <summary>The class of bug that killed the process (issue 8): an indirect GEMM reading past its offset table.</summary>
    [CheckedFact]
    public void An_indirect_GEMM_reading_past_its_offset_table_throws_instead_of_crashing()
    {
        int[] offsets = Im2Col.Offsets(2, 3, 3, 5, 5);   // 18 entries
        using var arena = new Arena(1024, "Probe");
        arena.Describe(0, 64, "_a");
        arena.Describe(64, 512, "_b");
        arena.Describe(576, 64, "_c");
        var e = Assert.Throws<IndexOutOfRangeException>(() =>
            Gemm.ScalarIndirect(ref arena.Ref(0), 24, 1, ref arena.Ref(64), ref offsets[0], ref arena.Ref(576), 16, 24, 1, 4,
                ref System.Runtime.CompilerServices.Unsafe.NullRef<float>(), Epilogue.Store, 0f));
        Assert.Contains("index 18 is outside an offset table [2·3·3]", e.Message);
    }

    /// <summary>A dense layer reads the caller's input in place while the layers run (<c>Workspace.WithInput</c>): the
    /// span is named for that long, without allocating, and forgotten after.</summary>
    [CheckedFact]
    public void Reading_past_the_callers_input_while_the_layers_run_throws_naming_it()
    {
        var layout = new WorkspaceLayout("Probe");
        layout.Take(16, "_buffer");
        using var ws = new Workspace(layout);
        var input = new float[37];
        ws.WithInput<object?>(input, null, static (_, w) =>
        {
            Mem.Add(ref w.Input, 36) = 1f;   // the last element: fine
            var e = Assert.Throws<IndexOutOfRangeException>(() => Mem.Load512(ref Mem.Add(ref w.Input, 32)));
            Assert.Contains("elements [32, 48) are outside the caller's input (37 elements)", e.Message);
        });
        Assert.Equal(1f, input[36]);
        // Two calls at once on overlapping spans of one array (batches of different sizes): each may read all of its own.
        using var other = new Workspace(layout);
        ws.WithInput(input.AsSpan(0, 20), (other, input), static (state, _) =>
            state.other.WithInput<object?>(state.input, null, static (_, w) => Mem.Add(ref w.Input, 36) = 2f));
        Assert.Equal(2f, input[36]);
        Assert.Throws<InvalidOperationException>(() => ws.Input);   // only while the layers run
        Action<object?, Workspace> nothing = static (_, _) => { };
        ws.WithInput(input, null, nothing);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) ws.WithInput(input, null, nothing);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [CheckedFact]
    public void A_model_names_its_buffers_and_tensors_in_the_checked_build()
    {
        using var net = new GcRelu(4, seed: 1);
        var e = Assert.Throws<IndexOutOfRangeException>(() => Mem.Add(ref net.Parameters[net.A.Tensors[0].Offset], 35));
        Assert.Contains("GcRelu.A.weight (35 elements)", e.Message);
    }

    [Fact]
    public void The_normal_build_is_not_the_checked_one() =>
        Assert.Equal(System.Reflection.Assembly.GetAssembly(typeof(Mem))!.GetName().Name == "ModelGen.Runtime" && Mem.IsChecked,
            AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Checked{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal));
}
