using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ModelGen.Cuda;

/// <summary>What <see cref="CudaStatus.Query"/> found.</summary>
public enum CudaState
{
    /// <summary>No CUDA driver library (<c>libcuda.so.1</c> / <c>nvcuda.dll</c>) could be loaded.</summary>
    NoDriver,
    /// <summary>The driver loaded, but <c>cuInit</c> found no usable device (or failed: see the message).</summary>
    NoDevice,
    /// <summary>The driver works and at least one device is present.</summary>
    Ready,
}

/// <summary>One CUDA device as the driver reports it.</summary>
/// <param name="Ordinal">Its index (<c>cuDeviceGet</c>).</param>
/// <param name="Name">The driver's name for it (e.g. "NVIDIA H200").</param>
/// <param name="Major">Compute capability, major (9 for Hopper).</param>
/// <param name="Minor">Compute capability, minor.</param>
/// <param name="TotalMemory">Device memory in bytes.</param>
/// <param name="Multiprocessors">Streaming multiprocessors.</param>
public sealed record CudaDevice(int Ordinal, string Name, int Major, int Minor, long TotalMemory, int Multiprocessors)
{
    /// <summary><c>sm_XY</c>, the PTX target of this device.</summary>
    public string Arch => $"sm_{Major}{Minor}";

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} ({Arch}, {Multiprocessors} SMs, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB)");
}

/// <summary>
/// Whether this machine can run ModelGen's CUDA path, found without throwing: the driver library (no toolkit needed),
/// <c>cuInit</c>, then each device's name, compute capability and memory. The GPU twins' constructors check it and throw
/// one clear message (<see cref="Message"/>) when the state is not <see cref="CudaState.Ready"/>.
/// </summary>
public sealed class CudaStatus
{
    /// <summary>What was found.</summary>
    public CudaState State { get; }
    /// <summary>What was found, in words (the driver's error name and text when a call failed).</summary>
    public string Message { get; }
    /// <summary>The driver's CUDA version (e.g. 12020 for 12.2), or 0 without a driver.</summary>
    public int DriverVersion { get; }
    /// <summary>The devices (empty unless <see cref="CudaState.Ready"/>).</summary>
    public IReadOnlyList<CudaDevice> Devices { get; }

    private CudaStatus(CudaState state, string message, int driverVersion, IReadOnlyList<CudaDevice> devices)
    {
        State = state; Message = message; DriverVersion = driverVersion; Devices = devices;
    }

    /// <summary>Loads the driver if it can, initialises it and lists the devices; never throws.</summary>
    public static CudaStatus Query()
    {
        CudaNative.EnsureResolver();
        int version = 0;
        try
        {
            int r = CudaNative.DriverGetVersion(out version);
            if (r != CudaNative.Success) return new CudaStatus(CudaState.NoDevice, "cuDriverGetVersion: " + CudaException.Describe(r, out _), 0, Array.Empty<CudaDevice>());
            r = CudaNative.Init(0);
            if (r != CudaNative.Success)
                return new CudaStatus(CudaState.NoDevice, $"CUDA driver {Version(version)} loaded, but cuInit: {CudaException.Describe(r, out _)}", version, Array.Empty<CudaDevice>());
            CudaException.Check(CudaNative.DeviceGetCount(out int count), "cuDeviceGetCount");
            if (count == 0) return new CudaStatus(CudaState.NoDevice, $"CUDA driver {Version(version)} loaded, but it reports no device", version, Array.Empty<CudaDevice>());
            var devices = new List<CudaDevice>();
            for (int i = 0; i < count; i++) devices.Add(Describe(i));
            return new CudaStatus(CudaState.Ready, $"CUDA driver {Version(version)}: {string.Join("; ", devices)}", version, devices);
        }
        catch (DllNotFoundException)
        {
            return new CudaStatus(CudaState.NoDriver, $"no CUDA driver: {CudaNative.LibraryFile} could not be loaded (install the NVIDIA driver; the CUDA toolkit is not needed)", 0, Array.Empty<CudaDevice>());
        }
        catch (EntryPointNotFoundException e)
        {
            return new CudaStatus(CudaState.NoDriver, $"{CudaNative.LibraryFile} lacks a Driver API entry point ({e.Message}): the driver is too old", 0, Array.Empty<CudaDevice>());
        }
        catch (CudaException e)
        {
            return new CudaStatus(CudaState.NoDevice, e.Message, version, Array.Empty<CudaDevice>());
        }
    }

    private static unsafe CudaDevice Describe(int ordinal)
    {
        CudaException.Check(CudaNative.DeviceGet(out int device, ordinal), "cuDeviceGet");
        byte* name = stackalloc byte[256];
        CudaException.Check(CudaNative.DeviceGetName(name, 256, device), "cuDeviceGetName");
        CudaException.Check(CudaNative.DeviceGetAttribute(out int major, CudaNative.ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        CudaException.Check(CudaNative.DeviceGetAttribute(out int minor, CudaNative.ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        CudaException.Check(CudaNative.DeviceGetAttribute(out int sms, CudaNative.MultiprocessorCount, device), "cuDeviceGetAttribute");
        CudaException.Check(CudaNative.DeviceTotalMem(out nuint bytes, device), "cuDeviceTotalMem_v2");
        int length = 0;
        while (length < 256 && name[length] != 0) length++;
        return new CudaDevice(ordinal, Encoding.UTF8.GetString(name, length), major, minor, (long)bytes, sms);
    }

    private static string Version(int v) => v == 0 ? "?" : $"{v / 1000}.{v % 1000 / 10}";

    /// <inheritdoc/>
    public override string ToString() => $"{State}: {Message}";
}
