using System;
using System.Runtime.InteropServices;
using ModelGen.Cuda;
using Xunit;

namespace ModelGen.Tests;

/// <summary>The CUDA driver probe: on a machine without the driver library it reports <see cref="CudaState.NoDriver"/>
/// naming the library, with the library but no GPU (Debian's <c>libcuda1</c> on a CPU machine) the driver's own
/// <c>CUDA_ERROR_NO_DEVICE</c>, on a GPU machine the devices — and it never throws.</summary>
public sealed class CudaStatusTests
{
    [Fact]
    public void The_probe_reports_the_machine_as_it_is_without_throwing()
    {
        var status = CudaStatus.Query();
        bool library = NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", out var handle);
        if (library) NativeLibrary.Free(handle);
        if (!library)
        {
            Assert.Equal(CudaState.NoDriver, status.State);
            Assert.Contains(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", status.Message);
            Assert.Equal(0, status.DriverVersion);
            Assert.Empty(status.Devices);
        }
        else if (status.State == CudaState.NoDevice)
        {
            Assert.True(status.DriverVersion > 0, status.Message);
            Assert.Contains("cuInit", status.Message);
            Assert.Contains("CUDA_ERROR_", status.Message);   // the driver's own name for the code
            Assert.Empty(status.Devices);
        }
        else
        {
            Assert.Equal(CudaState.Ready, status.State);
            Assert.NotEmpty(status.Devices);
            Assert.All(status.Devices, d => Assert.True(d.Major >= 3 && d.TotalMemory > 0 && d.Name.Length > 0, d.ToString()));
        }
        Assert.Equal(status.State, CudaStatus.Query().State);   // asking again gives the same answer
        Assert.Equal($"{status.State}: {status.Message}", status.ToString());
    }

    [Fact]
    public void A_driver_error_is_named_by_the_driver_or_by_its_code()
    {
        var e = new CudaException("cuInit", 100);
        Assert.Equal(100, e.Code);
        Assert.StartsWith("cuInit: ", e.Message);
        // Without a driver the name cannot be looked up: the code stands in for it.
        Assert.True(e.ErrorName == "CUDA_ERROR_NO_DEVICE" || e.ErrorName == "CUresult 100", e.ErrorName);
        Assert.Contains("(100)", e.Message);
    }
}
