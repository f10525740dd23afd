using StreamDetect.Engine.Cli;

return await StreamDetectCli.Build().Parse(args).InvokeAsync();
