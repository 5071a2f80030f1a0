using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ModelGen.Cuda;

/// <summary>
/// The CUDA Driver API entry points ModelGen uses, bound with <c>LibraryImport</c> (source-generated marshalling: AOT-
/// and trim-safe, no reflection). Only <c>libcuda</c> — the driver every NVIDIA install has — is needed: no toolkit, no
/// cuBLAS, no NVRTC. The library name <c>"cuda"</c> is resolved here to <c>libcuda.so.1</c> (Linux) or <c>nvcuda.dll</c>
/// (Windows); when it is missing a call throws <see cref="DllNotFoundException"/>, which <see cref="CudaStatus"/> turns
/// into <see cref="CudaState.NoDriver"/>. Entry points with a <c>_v2</c> suffix are named as the driver exports them.
/// </summary>
internal static partial class CudaNative
{
    private const string Library = "cuda";

    static CudaNative()
    {
        // One resolver for this assembly: only the "cuda" name is ours; everything else falls through to the default.
        NativeLibrary.SetDllImportResolver(typeof(CudaNative).Assembly, Resolve);
    }

    /// <summary>Forces the static constructor (and so the resolver) before the first call.</summary>
    internal static void EnsureResolver() { }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        foreach (var candidate in OperatingSystem.IsWindows() ? new[] { "nvcuda.dll" } : new[] { "libcuda.so.1", "libcuda.so" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return IntPtr.Zero;
    }

    /// <summary>The driver library's file name on this OS, for messages.</summary>
    internal static string LibraryFile => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    [LibraryImport(Library, EntryPoint = "cuInit")] internal static partial int Init(uint flags);
    [LibraryImport(Library, EntryPoint = "cuDriverGetVersion")] internal static partial int DriverGetVersion(out int version);
    [LibraryImport(Library, EntryPoint = "cuGetErrorName")] internal static partial int GetErrorName(int error, out IntPtr name);
    [LibraryImport(Library, EntryPoint = "cuGetErrorString")] internal static partial int GetErrorString(int error, out IntPtr text);
    [LibraryImport(Library, EntryPoint = "cuDeviceGetCount")] internal static partial int DeviceGetCount(out int count);
    [LibraryImport(Library, EntryPoint = "cuDeviceGet")] internal static partial int DeviceGet(out int device, int ordinal);
    [LibraryImport(Library, EntryPoint = "cuDeviceGetName")] internal static unsafe partial int DeviceGetName(byte* name, int length, int device);
    [LibraryImport(Library, EntryPoint = "cuDeviceGetAttribute")] internal static partial int DeviceGetAttribute(out int value, int attribute, int device);
    [LibraryImport(Library, EntryPoint = "cuDeviceTotalMem_v2")] internal static partial int DeviceTotalMem(out nuint bytes, int device);

    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRetain")] internal static partial int DevicePrimaryCtxRetain(out IntPtr context, int device);
    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] internal static partial int DevicePrimaryCtxRelease(int device);
    [LibraryImport(Library, EntryPoint = "cuCtxSetCurrent")] internal static partial int CtxSetCurrent(IntPtr context);
    [LibraryImport(Library, EntryPoint = "cuCtxSynchronize")] internal static partial int CtxSynchronize();
    [LibraryImport(Library, EntryPoint = "cuMemAlloc_v2")] internal static partial int MemAlloc(out ulong address, nuint bytes);
    [LibraryImport(Library, EntryPoint = "cuMemFree_v2")] internal static partial int MemFree(ulong address);
    [LibraryImport(Library, EntryPoint = "cuModuleLoadDataEx")] internal static unsafe partial int ModuleLoadDataEx(out IntPtr module, byte* image, uint options, int* optionKeys, void** optionValues);
    [LibraryImport(Library, EntryPoint = "cuModuleGetFunction", StringMarshalling = StringMarshalling.Utf8)] internal static partial int ModuleGetFunction(out IntPtr function, IntPtr module, string name);
    [LibraryImport(Library, EntryPoint = "cuModuleUnload")] internal static partial int ModuleUnload(IntPtr module);
    [LibraryImport(Library, EntryPoint = "cuLaunchKernel")]
    internal static unsafe partial int LaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedBytes, IntPtr stream, void** args, void** extra);
    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoDAsync_v2")] internal static unsafe partial int MemcpyHtoDAsync(ulong destination, void* source, nuint bytes, IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoHAsync_v2")] internal static unsafe partial int MemcpyDtoHAsync(void* destination, ulong source, nuint bytes, IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuStreamSynchronize")] internal static partial int StreamSynchronize(IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuMemsetD8Async")] internal static partial int MemsetD8Async(ulong address, byte value, nuint count, IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuStreamCreate")] internal static partial int StreamCreate(out IntPtr stream, uint flags);
    [LibraryImport(Library, EntryPoint = "cuStreamDestroy_v2")] internal static partial int StreamDestroy(IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuStreamBeginCapture_v2")] internal static partial int StreamBeginCapture(IntPtr stream, int mode);
    [LibraryImport(Library, EntryPoint = "cuStreamEndCapture")] internal static partial int StreamEndCapture(IntPtr stream, out IntPtr graph);
    [LibraryImport(Library, EntryPoint = "cuGraphInstantiateWithFlags")] internal static partial int GraphInstantiateWithFlags(out IntPtr exec, IntPtr graph, ulong flags);
    [LibraryImport(Library, EntryPoint = "cuGraphLaunch")] internal static partial int GraphLaunch(IntPtr exec, IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuGraphExecDestroy")] internal static partial int GraphExecDestroy(IntPtr exec);
    [LibraryImport(Library, EntryPoint = "cuGraphDestroy")] internal static partial int GraphDestroy(IntPtr graph);
    [LibraryImport(Library, EntryPoint = "cuEventCreate")] internal static partial int EventCreate(out IntPtr evt, uint flags);
    [LibraryImport(Library, EntryPoint = "cuEventRecord")] internal static partial int EventRecord(IntPtr evt, IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuEventSynchronize")] internal static partial int EventSynchronize(IntPtr evt);
    [LibraryImport(Library, EntryPoint = "cuEventElapsedTime")] internal static partial int EventElapsedTime(out float milliseconds, IntPtr start, IntPtr end);
    [LibraryImport(Library, EntryPoint = "cuEventDestroy_v2")] internal static partial int EventDestroy(IntPtr evt);

    /// <summary><c>CUjit_option</c>: info and error log buffers and their sizes, verbose logging.</summary>
    internal const int JitInfoLogBuffer = 3, JitInfoLogBufferSize = 4, JitErrorLogBuffer = 5, JitErrorLogBufferSize = 6, JitLogVerbose = 12;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR</c> / <c>_MINOR</c>, <c>MULTIPROCESSOR_COUNT</c>.</summary>
    internal const int ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76, MultiprocessorCount = 16;

    /// <summary><c>CU_STREAM_NON_BLOCKING</c>: a stream that does not synchronise with the legacy default stream.</summary>
    internal const uint StreamNonBlocking = 1;

    /// <summary><c>CU_STREAM_CAPTURE_MODE_THREAD_LOCAL</c>: only the capturing thread is kept from unsafe calls.</summary>
    internal const int CaptureModeThreadLocal = 1;

    /// <summary><c>CUDA_SUCCESS</c>, <c>CUDA_ERROR_NO_DEVICE</c>.</summary>
    internal const int Success = 0, NoDevice = 100;
}
