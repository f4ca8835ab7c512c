using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace FanOut.Hangfire.Items;

/// <summary>
/// How items are stored in child jobs: System.Text.Json with web defaults, never a CLR type name, so renaming an
/// item class does not break queued jobs. Also derives each item's key from its JSON.
/// </summary>
internal static class ItemJson
{
    private const int MaxKeyLength = 120;

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize<TItem>(TItem item) => JsonSerializer.Serialize(item, Options);

    public static object? Deserialize(string json, Type type) => JsonSerializer.Deserialize(json, type, Options);

    /// <summary>
    /// The key rule: a JSON string is its own key; a number or boolean is its text; an object's key is its
    /// <c>id</c> or <c>key</c> property (any case) when that is a string or number; anything else is its compact JSON.
    /// Keys longer than 120 characters are shortened, keeping them unique with a hash of the whole.
    /// </summary>
    public static string KeyOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var key = root.ValueKind switch
        {
            JsonValueKind.String => root.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => root.GetRawText(),
            JsonValueKind.Object => IdProperty(root) ?? json,
            _ => json,
        };
        return Shorten(key);
    }

    /// <summary>Why a type cannot be stored as JSON and read back, or null when it can.</summary>
    public static string? RoundTripProblem(Type type)
    {
        JsonTypeInfo info;
        try
        {
            info = Options.GetTypeInfo(type);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return ex.Message;
        }

        var probe = info.Kind switch
        {
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "{}",
            JsonTypeInfoKind.Enumerable => "[]",
            _ => null,
        };
        if (probe is null)
        {
            return null;
        }

        try
        {
            JsonSerializer.Deserialize(probe, info);
            return MemberProblem(info, [type]);
        }
        catch (NotSupportedException ex)
        {
            return ex.Message;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
        catch (JsonException)
        {
            // Missing required members in an empty probe: the type itself can be read back.
            return null;
        }
    }

    // An empty probe never reaches the members and elements of a type, so a member System.Text.Json cannot create (an
    // interface or abstract class without polymorphism set up) would only fail in the jobs, each retried until it fails.
    private static string? MemberProblem(JsonTypeInfo info, HashSet<Type> seen)
    {
        var children = info.Properties.Select(p => p.PropertyType)
            .Append(info.ElementType)
            .Append(info.KeyType)
            .OfType<Type>();
        foreach (var child in children)
        {
            if (!seen.Add(child))
            {
                continue;
            }

            JsonTypeInfo childInfo;
            try
            {
                childInfo = Options.GetTypeInfo(child);
            }
            catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
            {
                return $"its member type {child.Name} cannot be read: {ex.Message}";
            }

            if (childInfo.Kind == JsonTypeInfoKind.Object && (child.IsInterface || child.IsAbstract)
                && childInfo.CreateObject is null && childInfo.PolymorphismOptions is null)
            {
                return $"its member type {child.Name} is an interface or abstract class, which System.Text.Json cannot create when it reads an item back; use a concrete type or declare its derived types with [JsonDerivedType].";
            }

            if (MemberProblem(childInfo, seen) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? IdProperty(JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals("id") || property.Name.Equals("id", StringComparison.OrdinalIgnoreCase)
                || property.Name.Equals("key", StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Number => property.Value.GetRawText(),
                    _ => null,
                };
            }
        }

        return null;
    }

    private static string Shorten(string key)
    {
        if (key.Length <= MaxKeyLength)
        {
            return key;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

        // Never cut between the two halves of a character outside the BMP (an emoji): half a character is not text.
        var kept = MaxKeyLength - 18;
        if (char.IsHighSurrogate(key[kept - 1]))
        {
            kept--;
        }

        return string.Concat(key.AsSpan(0, kept), "#", hash);
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}
