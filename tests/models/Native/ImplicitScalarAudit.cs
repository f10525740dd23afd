using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace StreamDetect.Models.Tests.Native;

/// <summary>
/// Finds, in the IL of an assembly, every place that hands libtorch a Scalar nothing keeps alive (the TorchSharp 0.107
/// defect of <see cref="TorchSharpScalarLifetimeTests"/>): an implicit conversion to <c>TorchSharp.Scalar</c> whose result
/// is not stored in a field, an explicit <c>ToScalar()</c> not stored in a local or field, a call of a TorchSharp method that makes such a Scalar inside (e.g. <c>Tensor + Tensor</c>,
/// whose alpha is an implicit 1; <c>square()</c>; <c>nn.functional.leaky_relu</c>), and a module factory whose module's
/// forward does (<c>nn.LeakyReLU</c>). The TorchSharp methods are found by reading TorchSharp's own IL: those that make
/// a Scalar and never dispose one, and, transitively, their callers. Places are file:line from the portable PDB.
/// </summary>
internal static class ImplicitScalarAudit
{
    public sealed record Finding(string Place, string Method, string What)
    {
        public override string ToString() => $"{Place} ({Method}): {What}";
    }

    public static IReadOnlyList<Finding> Scan(string assemblyPath, string torchSharpPath)
    {
        var (makers, moduleTypes) = TorchSharpMakers(torchSharpPath);
        var findings = new List<Finding>();
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(Path.ChangeExtension(assemblyPath, ".pdb")));
        var pdb = pdbProvider.GetMetadataReader();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            foreach (var methodHandle in md.GetTypeDefinition(typeHandle).GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
                var points = pdb.GetMethodDebugInformation(methodHandle.ToDebugInformationHandle()).GetSequencePoints().Where(p => !p.IsHidden).ToList();
                foreach (var (offset, next, token) in Calls(il))
                {
                    var (owner, name, signature) = Target(md, token);
                    string? what = null;
                    if (IsScalarConversion(owner, name))
                    {
                        // Stored in a field (stsfld, stfld): held as long as its owner.
                        if (next is not (0x80 or 0x7D)) what = "a Scalar made by implicit conversion, held by nothing";
                    }
                    else if (owner.EndsWith("ScalarExtensionMethods", StringComparison.Ordinal) && name == "ToScalar")
                    {
                        // An explicit Scalar must be held too: stored in a local (to dispose after the call) or a field.
                        if (next is not (>= 0x0A and <= 0x0D or 0x13 or 0xFE or 0x80 or 0x7D)) what = "an explicit Scalar passed on without a local or field holding it";
                    }
                    else if (makers.Contains(owner + "::" + name + signature)) what = $"{Short(owner)}.{name}{signature} makes a Scalar inside that nothing holds";
                    else if (owner.EndsWith("torch/nn", StringComparison.Ordinal) && moduleTypes.Contains(name)) what = $"nn.{name}'s forward makes a Scalar that nothing holds";
                    if (what is null) continue;
                    var point = points.LastOrDefault(p => p.Offset <= offset);
                    string place = point.Document.IsNil ? "?" : $"{Path.GetFileName(pdb.GetString(pdb.GetDocument(point.Document).Name))}:{point.StartLine}";
                    findings.Add(new Finding(place, $"{TypeName(md, typeHandle)}.{md.GetString(method.Name)}", what));
                }
            }
        }
        return findings;
    }

    private static bool IsScalarConversion(string owner, string name) => owner == "TorchSharp.Scalar" && name == "op_Implicit";

    private static string Short(string owner) => owner[(owner.LastIndexOfAny(['.', '/']) + 1)..];

    /// <summary>TorchSharp's methods that make a Scalar nothing keeps alive (directly or through a callee), by
    /// owner::name(signature); and the module types whose forward is one of them.</summary>
    private static (HashSet<string> Makers, HashSet<string> ModuleTypes) TorchSharpMakers(string path)
    {
        var makers = new HashSet<string>(StringComparer.Ordinal);
        var callees = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            string typeName = TypeName(md, typeHandle);
            foreach (var methodHandle in md.GetTypeDefinition(typeHandle).GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
                string key = typeName + "::" + md.GetString(method.Name) + Signature(method.DecodeSignature(new TypeNames(), null));
                bool makes = false, disposes = false;
                var calls = new List<string>();
                foreach (var (_, _, token) in Calls(il))
                {
                    var (owner, name, signature) = Target(md, token);
                    if (IsScalarConversion(owner, name) || (owner.EndsWith("ScalarExtensionMethods", StringComparison.Ordinal) && name == "ToScalar")) makes = true;
                    if (owner == "TorchSharp.Scalar" && name == "Dispose") disposes = true;
                    calls.Add(owner + "::" + name + signature);
                }
                if (makes && !disposes) makers.Add(key);
                callees[key] = calls;
            }
        }
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (method, calls) in callees)
                if (!makers.Contains(method) && calls.Any(makers.Contains)) grew = makers.Add(method) | grew;
        }
        var moduleTypes = makers.Where(m => m.StartsWith("TorchSharp.Modules.", StringComparison.Ordinal) && m.Contains("::forward(", StringComparison.Ordinal))
            .Select(m => m["TorchSharp.Modules.".Length..m.IndexOf("::", StringComparison.Ordinal)]).ToHashSet(StringComparer.Ordinal);
        return (makers, moduleTypes);
    }

    /// <summary>Every call, callvirt and newobj: its IL offset, the opcode after it, its method token.</summary>
    private static List<(int Offset, int Next, int Token)> Calls(byte[] il)
    {
        var calls = new List<(int, int, int)>();
        int i = 0;
        while (i < il.Length)
        {
            int start = i;
            int op = il[i++];
            if (op == 0xFE) op = 0xFE00 | il[i++];
            int size = op == 0x45 ? 4 + 4 * BitConverter.ToInt32(il, i) : OperandSize(op);
            if (op is 0x28 or 0x6F or 0x73) calls.Add((start, i + size < il.Length ? il[i + size] : -1, BitConverter.ToInt32(il, i)));
            i += size;
        }
        return calls;
    }

    private static int OperandSize(int op) => op switch
    {
        >= 0xFE00 => (op & 0xFF) switch
        {
            0x09 or 0x0A or 0x0B or 0x0C or 0x0D or 0x0E => 2,
            0x12 or 0x19 => 1,
            0x06 or 0x07 or 0x15 or 0x16 or 0x1C => 4,
            _ => 0,
        },
        0x0E or 0x0F or 0x10 or 0x11 or 0x12 or 0x13 or 0x1F or 0xDE => 1,
        >= 0x2B and <= 0x37 => 1,
        0x20 or 0x22 => 4,
        0x21 or 0x23 => 8,
        0x27 or 0x28 or 0x29 => 4,
        >= 0x38 and <= 0x44 => 4,
        0x6F or 0x70 or 0x71 or 0x72 or 0x73 or 0x74 or 0x75 or 0x79 or 0x7B or 0x7C or 0x7D or 0x7E or 0x7F or 0x80 or 0x81 => 4,
        0x8C or 0x8D or 0x8F or 0xA3 or 0xA4 or 0xA5 or 0xC2 or 0xC6 or 0xD0 or 0xDD => 4,
        _ => 0,
    };

    private static (string Owner, string Name, string Signature) Target(MetadataReader md, int token)
    {
        var handle = MetadataTokens.EntityHandle(token);
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                var method = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                return (TypeName(md, method.GetDeclaringType()), md.GetString(method.Name), Signature(method.DecodeSignature(new TypeNames(), null)));
            }
            case HandleKind.MemberReference:
            {
                var reference = md.GetMemberReference((MemberReferenceHandle)handle);
                string signature = reference.GetKind() == MemberReferenceKind.Method ? Signature(reference.DecodeMethodSignature(new TypeNames(), null)) : "";
                return (ParentName(md, reference.Parent), md.GetString(reference.Name), signature);
            }
            case HandleKind.MethodSpecification:
                return Target(md, MetadataTokens.GetToken(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method));
            default:
                return ("?", "?", "");
        }
    }

    private static string Signature(MethodSignature<string> signature) => "(" + string.Join(",", signature.ParameterTypes) + ")";

    private static string TypeName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}" : $"{TypeName(md, declaring)}/{md.GetString(type.Name)}";
    }

    private static string ParentName(MetadataReader md, EntityHandle parent) => parent.Kind switch
    {
        HandleKind.TypeReference => ReferenceName(md, (TypeReferenceHandle)parent),
        HandleKind.TypeDefinition => TypeName(md, (TypeDefinitionHandle)parent),
        _ => "?",
    };

    private static string ReferenceName(MetadataReader md, TypeReferenceHandle handle)
    {
        var reference = md.GetTypeReference(handle);
        return reference.ResolutionScope.Kind == HandleKind.TypeReference
            ? $"{ReferenceName(md, (TypeReferenceHandle)reference.ResolutionScope)}/{md.GetString(reference.Name)}"
            : $"{md.GetString(reference.Namespace)}.{md.GetString(reference.Name)}";
    }

    /// <summary>Parameter types by simple name: enough to tell overloads apart across assemblies.</summary>
    private sealed class TypeNames : ISignatureTypeProvider<string, object?>
    {
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeReference(handle).Name);
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
    }
}
