package msgraph

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/microsoft/kiota-authentication-azure-go"
	_ "github.com/microsoftgraph/msgraph-sdk-go"
)
