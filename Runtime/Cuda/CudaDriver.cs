using System;
using System.Text;

namespace ModelGen.Cuda;

/// <summary>
/// The CUDA Driver API as an <see cref="ICudaBackend"/>: one device's primary context (made current on the calling
/// thread at every call, so any thread may use it), all work — copies, memsets, launches, graphs — in order on one
/// non-blocking stream of this backend's own (so no other user of the legacy default stream, another backend's copy
/// included, is implicitly ordered with it or breaks one of its graph recordings), graphs recorded from it by stream
/// capture, modules JIT-compiled by the driver from PTX with the JIT's error
/// and info logs put into the exception. Every <c>CUresult</c> is checked and reported with the driver's own name
/// and text.
/// </summary>
public sealed class CudaDriver : ICudaBackend
{
    private readonly int _device;
    private IntPtr _context;
    private IntPtr _stream;

    private CudaDriver(CudaDevice device, IntPtr context, int handle)
    {
        Device = device; _context = context; _device = handle;
    }

    /// <summary>The device this backend runs on.</summary>
    public CudaDevice Device { get; }

    /// <inheritdoc/>
    public string Description => Device.ToString();

    /// <summary>Opens device <paramref name="ordinal"/>'s primary context.</summary>
    /// <exception cref="InvalidOperationException">No driver or no such device: the message is <see cref="CudaStatus"/>'s.</exception>
    public static CudaDriver Open(int ordinal = 0)
    {
        var status = CudaStatus.Query();
        if (status.State != CudaState.Ready)
            throw new InvalidOperationException("the CUDA path needs an NVIDIA GPU and its driver: " + status.Message);
        if ((uint)ordinal >= (uint)status.Devices.Count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, $"the driver reports {status.Devices.Count} device(s): {status.Message}");
        CudaException.Check(CudaNative.DeviceGet(out int handle, ordinal), "cuDeviceGet");
        CudaException.Check(CudaNative.DevicePrimaryCtxRetain(out var context, handle), "cuDevicePrimaryCtxRetain");
        var driver = new CudaDriver(status.Devices[ordinal], context, handle);
        try
        {
            driver.Current();
            CudaException.Check(CudaNative.StreamCreate(out driver._stream, CudaNative.StreamNonBlocking), "cuStreamCreate");
        }
        catch
        {
            driver.Dispose();
            throw;
        }
        return driver;
    }

    private void Current()
    {
        if (_context == IntPtr.Zero) throw new ObjectDisposedException(nameof(CudaDriver));
        CudaException.Check(CudaNative.CtxSetCurrent(_context), "cuCtxSetCurrent");
    }

    /// <inheritdoc/>
    public ulong Allocate(long bytes)
    {
        Current();
        CudaException.Check(CudaNative.MemAlloc(out ulong address, (nuint)Math.Max(bytes, 4)), $"cuMemAlloc_v2 ({bytes} bytes)");
        CudaException.Check(CudaNative.MemsetD8Async(address, 0, (nuint)Math.Max(bytes, 4), _stream), "cuMemsetD8Async");
        return address;
    }

    /// <inheritdoc/>
    public void Free(ulong address)
    {
        Current();
        CudaException.Check(CudaNative.StreamSynchronize(_stream), "cuStreamSynchronize");   // no launch still reads it
        CudaException.Check(CudaNative.MemFree(address), "cuMemFree_v2");
    }

    /// <inheritdoc/>
    public unsafe void Upload(ReadOnlySpan<byte> source, ulong destination)
    {
        if (source.IsEmpty) return;
        Current();
        // From pageable memory the driver stages the bytes before it returns: the caller may reuse its buffer at once.
        fixed (byte* p = source) CudaException.Check(CudaNative.MemcpyHtoDAsync(destination, p, (nuint)source.Length, _stream), "cuMemcpyHtoDAsync_v2");
    }

    /// <inheritdoc/>
    public unsafe void Download(ulong source, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        Current();
        fixed (byte* p = destination)
        {
            CudaException.Check(CudaNative.MemcpyDtoHAsync(p, source, (nuint)destination.Length, _stream), "cuMemcpyDtoHAsync_v2");
            CudaException.Check(CudaNative.StreamSynchronize(_stream), "cuStreamSynchronize");   // the bytes are the caller's when this returns
        }
    }

    /// <inheritdoc/>
    public void Zero(ulong address, long bytes)
    {
        if (bytes <= 0) return;
        Current();
        CudaException.Check(CudaNative.MemsetD8Async(address, 0, (nuint)bytes, _stream), "cuMemsetD8Async");
    }

    /// <inheritdoc/>
    public unsafe nint LoadModule(ReadOnlySpan<byte> ptx)
    {
        Current();
        const int LogSize = 16384;
        var image = new byte[ptx.Length + 1];   // the driver reads a NUL-terminated image
        ptx.CopyTo(image);
        var info = new byte[LogSize];
        var error = new byte[LogSize];
        fixed (byte* img = image, pInfo = info, pError = error)
        {
            int* keys = stackalloc int[] { CudaNative.JitInfoLogBuffer, CudaNative.JitInfoLogBufferSize, CudaNative.JitErrorLogBuffer, CudaNative.JitErrorLogBufferSize, CudaNative.JitLogVerbose };
            void** values = stackalloc void*[] { pInfo, (void*)LogSize, pError, (void*)LogSize, (void*)1 };
            int r = CudaNative.ModuleLoadDataEx(out var module, img, 5, keys, values);
            if (r != CudaNative.Success)
                throw new CudaException("cuModuleLoadDataEx", r, "JIT error log: " + Text(error) + (Text(info).Length > 0 ? Environment.NewLine + "JIT info log: " + Text(info) : ""));
            return module;
        }
    }

    private static string Text(byte[] log)
    {
        int n = Array.IndexOf(log, (byte)0);
        return Encoding.UTF8.GetString(log, 0, n < 0 ? log.Length : n).Trim();
    }

    /// <inheritdoc/>
    public nint Kernel(nint module, string name)
    {
        Current();
        CudaException.Check(CudaNative.ModuleGetFunction(out var f, module, name), $"cuModuleGetFunction ({name})");
        return f;
    }

    /// <inheritdoc/>
    public void UnloadModule(nint module)
    {
        Current();
        CudaException.Check(CudaNative.ModuleUnload(module), "cuModuleUnload");
    }

    /// <inheritdoc/>
    public unsafe void Launch(nint kernel, uint gridX, uint gridY, uint gridZ, uint block, uint sharedBytes, ReadOnlySpan<ulong> args)
    {
        Current();
        fixed (ulong* a = args)
        {
            void** p = stackalloc void*[Math.Max(args.Length, 1)];
            for (int i = 0; i < args.Length; i++) p[i] = a + i;
            CudaException.Check(CudaNative.LaunchKernel(kernel, gridX, gridY, gridZ, block, 1, 1, sharedBytes, _stream, p, null), "cuLaunchKernel");
        }
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        Current();
        CudaException.Check(CudaNative.StreamSynchronize(_stream), "cuStreamSynchronize");
    }

    /// <inheritdoc/>
    public void BeginCapture()
    {
        Current();
        CudaException.Check(CudaNative.StreamBeginCapture(_stream, CudaNative.CaptureModeThreadLocal), "cuStreamBeginCapture_v2");
    }

    /// <inheritdoc/>
    public nint EndCapture()
    {
        Current();
        CudaException.Check(CudaNative.StreamEndCapture(_stream, out var graph), "cuStreamEndCapture");
        try
        {
            CudaException.Check(CudaNative.GraphInstantiateWithFlags(out var exec, graph, 0), "cuGraphInstantiateWithFlags");
            return exec;
        }
        finally { CudaNative.GraphDestroy(graph); }   // the executable graph keeps what it needs
    }

    /// <inheritdoc/>
    public void LaunchGraph(nint graph)
    {
        Current();
        CudaException.Check(CudaNative.GraphLaunch(graph, _stream), "cuGraphLaunch");
    }

    /// <inheritdoc/>
    public void DestroyGraph(nint graph)
    {
        Current();
        CudaException.Check(CudaNative.GraphExecDestroy(graph), "cuGraphExecDestroy");
    }

    /// <summary>Device time of <paramref name="work"/>'s launches in milliseconds, between two events recorded on this
    /// backend's stream around it (the host's own time in <paramref name="work"/> is not counted unless it stalls the GPU).</summary>
    public float Time(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Current();
        CudaException.Check(CudaNative.EventCreate(out var start, 0), "cuEventCreate");
        try
        {
            CudaException.Check(CudaNative.EventCreate(out var end, 0), "cuEventCreate");
            try
            {
                CudaException.Check(CudaNative.EventRecord(start, _stream), "cuEventRecord");
                work();
                Current();
                CudaException.Check(CudaNative.EventRecord(end, _stream), "cuEventRecord");
                CudaException.Check(CudaNative.EventSynchronize(end), "cuEventSynchronize");
                CudaException.Check(CudaNative.EventElapsedTime(out float ms, start, end), "cuEventElapsedTime");
                return ms;
            }
            finally { CudaNative.EventDestroy(end); }
        }
        finally { CudaNative.EventDestroy(start); }
    }

    /// <summary>Destroys the stream and releases the primary context.</summary>
    public void Dispose()
    {
        if (_context == IntPtr.Zero) return;
        if (_stream != IntPtr.Zero)
        {
            CudaNative.CtxSetCurrent(_context);
            CudaNative.StreamDestroy(_stream);
            _stream = IntPtr.Zero;
        }
        _context = IntPtr.Zero;
        CudaNative.DevicePrimaryCtxRelease(_device);
    }
}
