using System;

namespace ModelGen.Tests;

/// <summary>Steady-state allocation checks. The runtime itself may allocate on the calling thread once in a while (a
/// method reaching its tier-up count queues its recompilation), so a check runs its loop in three windows and reports
/// the smallest: an allocation made by every call shows in every window, a one-off of the runtime in one at most.</summary>
internal static class Allocations
{
    public static long SteadyState(Action loop)
    {
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            loop();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
