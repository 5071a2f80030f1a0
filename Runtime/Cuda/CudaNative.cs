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

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR</c> / <c>_MINOR</c>, <c>MULTIPROCESSOR_COUNT</c>.</summary>
    internal const int ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76, MultiprocessorCount = 16;

    /// <summary><c>CUDA_SUCCESS</c>, <c>CUDA_ERROR_NO_DEVICE</c>.</summary>
    internal const int Success = 0, NoDevice = 100;
}
