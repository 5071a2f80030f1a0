using System;
using System.Runtime.InteropServices;

namespace ModelGen.Cuda;

/// <summary>
/// Where a GPU twin's kernels run: device memory, modules, launches. <see cref="CudaDriver"/> is the CUDA Driver API
/// (<c>libcuda</c>); the tests plug in an interpreter of the emitted PTX, so the whole twin — buffer plan, launches,
/// synchronisation with the host — is checked on machines without a GPU. Addresses are 64-bit device pointers; kernel
/// arguments are 8-byte slots (a pointer, or a 32-bit integer or float in the low half).
/// </summary>
public interface ICudaBackend : IDisposable
{
    /// <summary>What runs the kernels, for messages (e.g. "NVIDIA H200 (sm_90, …)").</summary>
    string Description { get; }

    /// <summary>Allocates <paramref name="bytes"/> of zeroed device memory.</summary>
    ulong Allocate(long bytes);

    /// <summary>Frees an allocation made by <see cref="Allocate"/>.</summary>
    void Free(ulong address);

    /// <summary>Copies host bytes to the device, in order with the work before and after it; the source may be reused as
    /// soon as this returns.</summary>
    void Upload(ReadOnlySpan<byte> source, ulong destination);

    /// <summary>Copies device bytes to the host (waits for the launches before it).</summary>
    void Download(ulong source, Span<byte> destination);

    /// <summary>Sets <paramref name="bytes"/> bytes at <paramref name="address"/> to zero.</summary>
    void Zero(ulong address, long bytes);

    /// <summary>Loads a PTX module (UTF-8 text); a module the driver rejects throws with its JIT log.</summary>
    nint LoadModule(ReadOnlySpan<byte> ptx);

    /// <summary>The kernel <paramref name="name"/> of a loaded module.</summary>
    nint Kernel(nint module, string name);

    /// <summary>Unloads a module.</summary>
    void UnloadModule(nint module);

    /// <summary>Launches a kernel on a 3-D grid of 1-D blocks, in order after the launches and copies before it.</summary>
    void Launch(nint kernel, uint gridX, uint gridY, uint gridZ, uint block, uint sharedBytes, ReadOnlySpan<ulong> args);

    /// <summary>Waits for every launch so far.</summary>
    void Synchronize();

    // ── graphs: a recorded sequence of launches and memsets, replayed with one call ──────────────────────────────

    /// <summary>Starts recording (CUDA stream capture): the launches and <see cref="Zero"/>s that follow are not run but
    /// recorded, with their arguments as they are now, until <see cref="EndCapture"/>. Copies, allocations and
    /// synchronisation are errors while recording (the driver forbids them in a capture).</summary>
    void BeginCapture();

    /// <summary>Ends the recording started by <see cref="BeginCapture"/>: the recorded work as a graph ready to launch.</summary>
    nint EndCapture();

    /// <summary>Runs a graph's launches and memsets, in order after the work before it.</summary>
    void LaunchGraph(nint graph);

    /// <summary>Frees a graph made by <see cref="EndCapture"/>.</summary>
    void DestroyGraph(nint graph);
}

/// <summary>Typed copies over <see cref="ICudaBackend"/>'s byte copies.</summary>
public static class CudaBackendExtensions
{
    /// <summary>Copies floats to the device.</summary>
    public static void Upload(this ICudaBackend gpu, ReadOnlySpan<float> source, ulong destination) => gpu.Upload(MemoryMarshal.AsBytes(source), destination);
    /// <summary>Copies 32-bit integers to the device.</summary>
    public static void Upload(this ICudaBackend gpu, ReadOnlySpan<int> source, ulong destination) => gpu.Upload(MemoryMarshal.AsBytes(source), destination);
    /// <summary>Copies floats to the host.</summary>
    public static void Download(this ICudaBackend gpu, ulong source, Span<float> destination) => gpu.Download(source, MemoryMarshal.AsBytes(destination));
}
