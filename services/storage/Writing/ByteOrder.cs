namespace Finstage.Storage.Writing;

/// <summary>Orders keys byte by byte, as the database does for binary columns.</summary>
internal sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
