using System;
using System.Runtime.InteropServices;

namespace ModelGen.Cuda;

/// <summary>A CUDA Driver API call that did not return <c>CUDA_SUCCESS</c>: the call, the driver's own name and text for
/// the code (e.g. <c>cuInit: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected</c>), and the code.</summary>
public sealed class CudaException : Exception
{
    /// <summary>The <c>CUresult</c>.</summary>
    public int Code { get; }
    /// <summary>The driver's name for the code (<c>CUDA_ERROR_…</c>), or <c>CUresult N</c> when it has none.</summary>
    public string ErrorName { get; }

    internal CudaException(string call, int code, string? detail = null)
        : base($"{call}: {Describe(code, out string name)}{(detail is null ? "" : Environment.NewLine + detail)}")
    {
        Code = code;
        ErrorName = name;
    }

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="code"/> is 0.</summary>
    internal static void Check(int code, string call)
    {
        if (code != CudaNative.Success) throw new CudaException(call, code);
    }

    /// <summary><c>NAME (code): text</c> from the driver (cuGetErrorName returns no string for codes it does not know).</summary>
    internal static string Describe(int code, out string name)
    {
        name = $"CUresult {code}";
        string text = "";
        try
        {
            if (CudaNative.GetErrorName(code, out var n) == CudaNative.Success && n != IntPtr.Zero) name = Marshal.PtrToStringUTF8(n) ?? name;
            if (CudaNative.GetErrorString(code, out var t) == CudaNative.Success && t != IntPtr.Zero) text = Marshal.PtrToStringUTF8(t) ?? "";
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
        return text.Length == 0 ? $"{name} ({code})" : $"{name} ({code}): {text}";
    }
}
