using System.Text.Json;
using System.Text.Json.Serialization;

namespace FanOut.Hangfire.Tests.Units.Items;

// Item types for the item unit tests: the kinds System.Text.Json reads back, and the kinds it does not.

/// <summary>An object item with an id, the usual shape.</summary>
public sealed record Tenant(string Id, string Name);

/// <summary>Read back through a parameterless constructor and setters.</summary>
public sealed class Settable
{
    public string Id { get; set; } = string.Empty;
}

/// <summary>Read back, although the empty probe misses its required member.</summary>
public sealed class WithRequiredMembers
{
    public required string Id { get; init; }
}

/// <summary>Not read back: an interface.</summary>
public interface IItem
{
    string Id { get; }
}

/// <summary>Not read back: an abstract class.</summary>
public abstract class AbstractItem
{
    public string Id { get; set; } = string.Empty;
}

/// <summary>Not read back: two constructors, none of them parameterless or marked.</summary>
public sealed class TwoConstructors
{
    public TwoConstructors(string id) => Id = id;

    public TwoConstructors(int number) => Id = number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string Id { get; }
}

/// <summary>Not written: it refers to itself.</summary>
public sealed class Node
{
    public string Id { get; set; } = "n-1";

    public Node? Next { get; set; }
}

/// <summary>Not written: System.Text.Json refuses to write a <see cref="System.Type"/>.</summary>
public sealed record WithType(string Id, Type Kind);

/// <summary>Written as JSON null, although it is not null.</summary>
[JsonConverter(typeof(GhostConverter))]
public sealed class Ghost
{
}

public sealed class GhostConverter : JsonConverter<Ghost>
{
    public override Ghost? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        reader.Skip();
        return null;
    }

    public override void Write(Utf8JsonWriter writer, Ghost value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNullValue();
    }
}

/// <summary>Written, but not read back: one of its members is an interface.</summary>
public sealed record WithInterfaceMember(string Id, IItem Part);
