namespace StreamDetect.Engine.Configuration;

/// <summary>A problem with what the user gave (a path, an option value, a file's format); the message says which.</summary>
public sealed class UserInputException(string message, Exception? inner = null) : Exception(message, inner);
