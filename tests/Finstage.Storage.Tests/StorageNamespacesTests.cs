using System.Reflection;
using System.Reflection.Emit;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage service's rooms (Apis, Consumers, Reading, Writing, Infrastructure, ...) depend on each other one way only:
/// the doors (Apis, Consumers) on the rooms behind them, the rooms on Infrastructure, never back. Read from the compiled
/// assembly, not the source, so every use counts whether or not a <c>using</c> names it: signatures, attributes and the
/// types, methods and fields that method bodies (lambdas and async state machines included) touch.
/// </summary>
[Trait("Lane", "Fast")]
public sealed class StorageNamespacesTests
{
    private const string Root = "Finstage.Storage";

    [Fact]
    [Trait("Category", "Reliability")]
    public void StorageNamespaces_FormNoCycle_InTheServiceAssembly()
    {
        var graph = NamespaceGraph(typeof(Program).Assembly);

        var cycles = graph.Keys.Select(start => FindCycle(graph, start)).OfType<string>().Distinct().ToList();

        cycles.ShouldBeEmpty("namespaces that depend on each other: " + string.Join("; ", cycles));
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public void ReadingAndWriting_ReferenceNeitherEachOtherNorTheDoors_InTheServiceAssembly()
    {
        var graph = NamespaceGraph(typeof(Program).Assembly);

        foreach (var room in new[] { Root + ".Reading", Root + ".Writing" })
        {
            graph.ShouldContainKey(room);
            graph[room].Where(used => used is Root + ".Reading" or Root + ".Writing" or Root + ".Apis" or Root + ".Consumers" || used == Root)
                .ShouldBeEmpty($"{room} is a room behind the read API's and the consumers' doors, apart from the other room");
        }
    }

    /// <summary>Finds the namespace graph's cycles on a small hand-made graph, so the search itself is known to work.</summary>
    [Fact]
    public void FindCycle_NamesTheCycle_WhenTwoNamespacesUseEachOther()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"],
            ["B"] = ["C"],
            ["C"] = ["A"],
            ["D"] = ["A"],
        };

        FindCycle(graph, "A").ShouldBe("A -> B -> C -> A");
        FindCycle(graph, "D").ShouldBe("A -> B -> C -> A");
        FindCycle(new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = [] }, "A").ShouldBeNull();
    }

    /// <summary>Each namespace of the service under <see cref="Root"/> and the other such namespaces its types use.</summary>
    private static Dictionary<string, HashSet<string>> NamespaceGraph(Assembly assembly)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (!IsOurs(type.Namespace))
            {
                continue;
            }
            var uses = graph.TryGetValue(type.Namespace!, out var known) ? known : graph[type.Namespace!] = new(StringComparer.Ordinal);
            foreach (var used in TypesUsedBy(type))
            {
                if (used.Namespace is { } name && IsOurs(name) && name != type.Namespace)
                {
                    uses.Add(name);
                }
            }
        }
        return graph;
    }

    private static bool IsOurs(string? name) => name is not null && (name == Root || name.StartsWith(Root + ".", StringComparison.Ordinal));

    private static List<Type> TypesUsedBy(Type type)
    {
        const BindingFlags declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        var used = new List<Type>();
        used.AddRange(Expand(type.BaseType));
        used.AddRange(type.GetInterfaces().SelectMany(Expand));
        used.AddRange(AttributeTypes(type.GetCustomAttributesData()));
        used.AddRange(type.GetFields(declared).SelectMany(field => Expand(field.FieldType).Concat(AttributeTypes(field.GetCustomAttributesData()))));
        used.AddRange(type.GetProperties(declared).SelectMany(property => Expand(property.PropertyType)));
        foreach (var method in type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)))
        {
            if (method is MethodInfo info)
            {
                used.AddRange(Expand(info.ReturnType));
            }
            used.AddRange(method.GetParameters().SelectMany(parameter => Expand(parameter.ParameterType)));
            used.AddRange(AttributeTypes(method.GetCustomAttributesData()));
            used.AddRange(TypesInBody(method));
        }
        return used;
    }

    private static IEnumerable<Type> AttributeTypes(IEnumerable<CustomAttributeData> attributes) =>
        attributes.SelectMany(attribute => Expand(attribute.AttributeType).Concat(
            attribute.ConstructorArguments.Concat(attribute.NamedArguments.Select(named => named.TypedValue))
                .Select(argument => argument.Value).OfType<Type>().SelectMany(Expand)));

    /// <summary>A type and the types it is built from: generic arguments, array and pointer elements.</summary>
    private static IEnumerable<Type> Expand(Type? type)
    {
        if (type is null)
        {
            yield break;
        }
        if (type.HasElementType)
        {
            foreach (var element in Expand(type.GetElementType()))
            {
                yield return element;
            }
            yield break;
        }
        yield return type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return argument;
            }
        }
    }

    // Every opcode by its value: the operand sizes that walking the IL needs.
    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!).ToDictionary(code => code.Value);

    /// <summary>The types a method's body names: its locals, and the types, methods and fields its instructions take.</summary>
    private static List<Type> TypesInBody(MethodBase method)
    {
        var body = method.GetMethodBody();
        var il = body?.GetILAsByteArray();
        if (body is null || il is null)
        {
            return [];
        }
        var used = body.LocalVariables.SelectMany(local => Expand(local.LocalType)).ToList();
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var code = il[at] == 0xFE ? s_opCodes[(short)(0xFE00 | il[at + 1])] : s_opCodes[il[at]];
            at += code.Size;
            if (code.OperandType is OperandType.InlineType or OperandType.InlineTok or OperandType.InlineMethod or OperandType.InlineField)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments);
                used.AddRange(member switch
                {
                    Type type => Expand(type),
                    FieldInfo field => Expand(field.DeclaringType).Concat(Expand(field.FieldType)),
                    MethodInfo called => Expand(called.DeclaringType).Concat(Expand(called.ReturnType))
                        .Concat(called.IsGenericMethod ? called.GetGenericArguments().SelectMany(Expand) : []),
                    MethodBase constructor => Expand(constructor.DeclaringType),
                    _ => [],
                });
            }
            at += code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
                _ => 4,
            };
        }
        return used;
    }

    /// <summary>A cycle reachable from <paramref name="start"/>, written "A -> B -> A" from its smallest name, or null.</summary>
    private static string? FindCycle(Dictionary<string, HashSet<string>> graph, string start)
    {
        var path = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        string? Visit(string node)
        {
            var index = path.IndexOf(node);
            if (index >= 0)
            {
                var cycle = path.Skip(index).ToList();
                var first = cycle.IndexOf(cycle.Min(StringComparer.Ordinal)!);
                return string.Join(" -> ", cycle.Skip(first).Concat(cycle.Take(first)).Append(cycle[first]));
            }
            if (!done.Add(node))
            {
                return null;
            }
            path.Add(node);
            foreach (var next in (graph.TryGetValue(node, out var uses) ? uses : []).Order(StringComparer.Ordinal))
            {
                if (Visit(next) is { } found)
                {
                    return found;
                }
            }
            path.RemoveAt(path.Count - 1);
            return null;
        }
        return Visit(start);
    }
}
