using System;
using System.IO;

namespace ModelGen.Data;

/// <summary>Seeded image augmentation for training batches of <c>[C, H, W]</c> images.</summary>
public static class Augment
{
    /// <summary>
    /// The standard CIFAR augmentation: pad each image with <paramref name="pad"/> zeros on every side, take a random
    /// <c>H×W</c> crop, and flip it horizontally with probability ½. In place, on <paramref name="count"/> images.
    /// </summary>
    public static void RandomCropFlip(Span<float> images, int count, int channels, int height, int width, int pad, ref Rng rng)
    {
        int size = channels * height * width;
        Span<float> copy = size <= 16384 ? stackalloc float[size] : new float[size];
        for (int i = 0; i < count; i++)
        {
            var img = images.Slice(i * size, size);
            img.CopyTo(copy);
            int dy = rng.NextInt(2 * pad + 1) - pad, dx = rng.NextInt(2 * pad + 1) - pad;
            bool flip = rng.NextInt(2) == 1;
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        int sy = y + dy, sx = (flip ? width - 1 - x : x) + dx;
                        img[(c * height + y) * width + x] = sy >= 0 && sy < height && sx >= 0 && sx < width ? copy[(c * height + sy) * width + sx] : 0f;
                    }
        }
    }
}
